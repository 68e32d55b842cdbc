"""A business's state graph as server-side SVG, with a case's path highlighted.

Drawn from the rules (no JavaScript, no CDN): the main path (following each state's first
transition from the initial state) runs left to right; the other states (rejected, cancelled ...)
sit on a second row. Edges the case took are green, the current state is orange.
"""
from html import escape

BOX_W, BOX_H, GAP_X, ROW_Y = 112, 40, 56, (40, 170)
COLORS = {"edge": "#9aa5b1", "taken": "#2e7d32", "box": "#ffffff", "visited": "#e8f5e9", "current": "#ffe0b2",
          "final": "#eceff1", "text": "#263238"}


def case_path(case):
    """Visited states and taken edges, from the case's history entries in order."""
    nodes, edges = [], set()
    for h in case.history:
        if h.node_from:
            edges.add((h.node_from, h.node_to))
        nodes.append(h.node_to)
    return nodes, edges


def _layout(workflow):
    # The main path follows each state's first declared transition: rules list the forward step first.
    main, node = [], workflow.initial
    while node and node not in main:
        main.append(node)
        node = next((t.to[0] for t in workflow.transitions if node in t.from_ and t.to[0] not in main), None)
    others = [n for n in workflow.states if n not in main]
    pos = {n: (20 + i * (BOX_W + GAP_X), ROW_Y[0]) for i, n in enumerate(main)}
    step = max(len(main) - 1, 1) * (BOX_W + GAP_X) / max(len(others), 1)
    for i, n in enumerate(others):
        pos[n] = (20 + int(step * i + step / 2 - BOX_W / 2) if others else 20, ROW_Y[1])
    width = 40 + max(len(main), 1) * (BOX_W + GAP_X) - GAP_X
    return pos, width


def _anchor(pos, a, b):
    """Points on the borders of boxes a and b facing each other."""
    (ax, ay), (bx, by) = pos[a], pos[b]
    acx, acy, bcx, bcy = ax + BOX_W / 2, ay + BOX_H / 2, bx + BOX_W / 2, by + BOX_H / 2
    if ay == by:
        return (ax + BOX_W, acy, bx, bcy) if bx > ax else (ax, acy, bx + BOX_W, bcy)
    return (acx, ay + BOX_H, bcx, by) if by > ay else (acx, ay, bcx, by + BOX_H)


def render(business, case=None, locale="zh"):
    wf = business.workflow
    pos, width = _layout(wf)
    visited, taken = case_path(case) if case is not None else ([], set())
    current = case.node if case is not None else None
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" viewBox="0 0 {width} 240" '
             f'width="100%" role="img" aria-label="{escape(business.name.get(locale))}" '
             f'font-family="sans-serif" font-size="12">',
             '<defs>'
             f'<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLORS["edge"]}"/></marker>'
             f'<marker id="arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLORS["taken"]}"/></marker>'
             '</defs>']
    drawn = set()
    pairs = {(a, b) for t in wf.transitions for a in t.from_ for b in t.to}
    for t in wf.transitions:
        # A transition that may wait (submit waiting in 待确认) is drawn through its waiting state too.
        steps = [(a, b) for a in t.from_ for b in t.to]
        if t.wait is not None:
            steps += [(a, t.wait.state) for a in t.from_] + [(t.wait.state, b) for b in t.to]
        for a, b in steps:
            if (a, b) in drawn or a == b:
                continue
            drawn.add((a, b))
            x1, y1, x2, y2 = _anchor(pos, a, b)
            is_taken = (a, b) in taken
            color = COLORS["taken"] if is_taken else COLORS["edge"]
            # Edges that go back, or come in pairs (reject/reapply), bend so that they do not overlap.
            bend = 0
            if pos[b][0] < pos[a][0] and pos[a][1] == pos[b][1]:
                bend = 40
            elif (b, a) in pairs:
                bend = 22
            dx, dy = x2 - x1, y2 - y1
            length = max((dx * dx + dy * dy) ** 0.5, 1)
            cx, cy = (x1 + x2) / 2 - dy / length * bend, (y1 + y2) / 2 + dx / length * bend
            mx, my = (x1 + x2 + 2 * cx) / 4, (y1 + y2 + 2 * cy) / 4
            label = escape(t.label.get(locale))
            parts.append(
                f'<g class="edge{" taken" if is_taken else ""}" data-event="{escape(t.event)}">'
                f'<path d="M{x1:.0f},{y1:.0f} Q{cx:.0f},{cy:.0f} {x2:.0f},{y2:.0f}" fill="none" stroke="{color}" '
                f'stroke-width="{2.5 if is_taken else 1.2}" marker-end="url(#{"arrow-taken" if is_taken else "arrow"})"/>'
                f'<text x="{mx:.0f}" y="{my - 4:.0f}" text-anchor="middle" fill="{color}" font-size="10">{label}</text></g>')
    for name, state in wf.states.items():
        x, y = pos[name]
        fill = COLORS["current"] if name == current else COLORS["visited"] if name in visited else (
            COLORS["final"] if state.final else COLORS["box"])
        stroke = COLORS["taken"] if name in visited else "#607d8b"
        bold = ' font-weight="bold"' if name == current else ""
        cls = "state" + (" current" if name == current else "") + (" visited" if name in visited else "")
        parts.append(f'<g class="{cls}" data-state="{escape(name)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
                     f'rx="{18 if state.initial or state.final else 6}" fill="{fill}" stroke="{stroke}" '
                     f'stroke-width="{2.5 if name == current else 1.2}"/>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 4:.0f}" text-anchor="middle" fill="{COLORS["text"]}"'
                     f'{bold}>{escape(state.label.get(locale))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
