"""Geometry of the register and the plans drawn from it: 宗地图 (parcel plan) and 分户图 (unit plan).

A parcel holds its boundary and a unit its outline on its floor, each as a GeoJSON Polygon in metres
on the local plane (x east, y north). The registry types or pastes it on the parcel / unit edit forms;
`parse` checks it and stores one canonical form. The plans are vector drawings (reportlab graphics:
paths and text in the PDF, never a pasted image), with the subject outlined heavily, its edge lengths,
the neighbours (adjacent parcels of the same cadastral sub-district, the other units of the floor)
outlined lightly and labelled, a north arrow and a scale bar at a standard scale.
"""
import json
import math

from flask_babel import lazy_gettext as _l
from reportlab.graphics.shapes import Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib import colors
from sqlalchemy import select

from app.extensions import db
from app.services import printing
from app.validators import ValidationFailed

MAX_CHARS = 20_000
MAX_VERTICES = 200
LIMIT = 10_000_000  # |coordinate| in metres
SCALES = (50, 100, 150, 200, 250, 300, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000)
NEIGHBOUR_GAP = 0.5  # metres: outlines closer than this touch


# ---- the stored form -------------------------------------------------------------------------------

def parse(text) -> str | None:
    """The canonical GeoJSON of a typed polygon, None for an empty field; ValidationFailed (a sentence) else.

    Accepted: a GeoJSON Polygon (a Feature holding one too) with one ring, or the bare ring
    [[x, y], ...]; the ring closed (first point = last point), 3 to MAX_VERTICES corners, not crossing
    itself, with an area.
    """
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if len(text) > MAX_CHARS:
        raise ValidationFailed(_l("The geometry is too long (at most %(n)s characters)", n=MAX_CHARS))
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationFailed(_l("The geometry is not valid GeoJSON")) from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict):
        if value.get("type") != "Polygon":
            raise ValidationFailed(_l("The geometry must be a GeoJSON Polygon"))
        rings = value.get("coordinates")
        if not isinstance(rings, list) or len(rings) != 1:
            raise ValidationFailed(_l("The polygon must have exactly one ring (its outline)"))
        ring = rings[0]
    else:
        ring = value
    ring = _ring(ring)
    return json.dumps({"type": "Polygon", "coordinates": [[list(p) for p in ring]]}, separators=(",", ":"))


def _ring(ring) -> list[tuple[float, float]]:
    if not isinstance(ring, list) or not all(isinstance(p, list) and len(p) == 2 for p in ring):
        raise ValidationFailed(_l("Each corner must be a pair of coordinates [x, y]"))
    points = []
    for x, y in ring:
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) \
                or not isinstance(y, (int, float)) or not all(math.isfinite(v) and abs(v) < LIMIT for v in (x, y)):
            raise ValidationFailed(_l("Each coordinate must be a number of metres"))
        points.append((round(float(x), 3), round(float(y), 3)))
    if len(points) < 4 or points[0] != points[-1]:
        raise ValidationFailed(_l("The ring must be closed: at least 3 corners, and the last point repeats the first"))
    if len(points) - 1 > MAX_VERTICES:
        raise ValidationFailed(_l("The polygon has too many corners (at most %(n)s)", n=MAX_VERTICES))
    corners = points[:-1]
    if len(set(corners)) != len(corners):
        raise ValidationFailed(_l("The polygon repeats a corner"))
    if _self_crossing(corners):
        raise ValidationFailed(_l("The outline crosses itself"))
    if abs(area(corners)) < 0.01:
        raise ValidationFailed(_l("The polygon has no area"))
    return points


def corners(geojson: str | None) -> list[tuple[float, float]] | None:
    """The corners (ring without its closing point) of a stored geometry, or None."""
    if not geojson:
        return None
    try:
        ring = json.loads(geojson)["coordinates"][0]
        return [(float(x), float(y)) for x, y in ring[:-1]]
    except (ValueError, KeyError, IndexError, TypeError):
        return None  # a row edited outside the forms: drawn as missing, never a crash


def area(pts) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1])) / 2


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1, p2, q1, q2):
    d1, d2, d3, d4 = _cross(q1, q2, p1), _cross(q1, q2, p2), _cross(p1, p2, q1), _cross(p1, p2, q2)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0) and 0 not in (d1, d2, d3, d4)


def _self_crossing(pts) -> bool:
    edges = list(zip(pts, pts[1:] + pts[:1]))
    n = len(edges)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # the first and last edges share a corner
            if _segments_cross(*edges[i], *edges[j]):
                return True
    return False


def form_validator(form, field):
    """WTForms validator for the geometry fields of the register's edit forms."""
    from wtforms.validators import ValidationError
    try:
        field.data = parse(field.data)
    except ValidationFailed as exc:
        raise ValidationError(str(exc)) from None


# ---- neighbours ----------------------------------------------------------------------------------

def _point_segment(p, a, b):
    ax, ay = b[0] - a[0], b[1] - a[1]
    length = ax * ax + ay * ay
    t = 0 if length == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / length))
    return math.hypot(p[0] - a[0] - t * ax, p[1] - a[1] - t * ay)


def touching(a, b, gap=NEIGHBOUR_GAP) -> bool:
    """Two outlines share a boundary (or come within `gap` metres of each other)."""
    for pts, other in ((a, b), (b, a)):
        for p in pts:
            if any(_point_segment(p, s, e) <= gap for s, e in zip(other, other[1:] + other[:1])):
                return True
    return False


def parcel_neighbours(parcel) -> list[tuple[str, list]]:
    """(label, corners) of the parcels of the same cadastral sub-district that touch this one."""
    from models import Parcel
    own = corners(parcel.geometry)
    if not own:
        return []
    rows = db.session.execute(select(Parcel.code, Parcel.geometry).where(
        Parcel.code.startswith(parcel.code[:12], autoescape=True), Parcel.id != parcel.id,
        Parcel.geometry.is_not(None)).execution_options(skip_scope=True)).all()
    out = []
    for code, geometry in rows:
        pts = corners(geometry)
        if pts and touching(own, pts):
            out.append((code, pts))
    return out


def floor_units(unit) -> list[tuple[str, list]]:
    """(room label, corners) of the other units on the unit's floor that have an outline."""
    from models import Unit
    rows = db.session.execute(select(Unit.room, Unit.geometry).where(
        Unit.building_id == unit.building_id, Unit.floor == unit.floor, Unit.id != unit.id,
        Unit.geometry.is_not(None)).order_by(Unit.room).execution_options(skip_scope=True)).all()
    return [(f"{room}室", pts) for room, geometry in rows if (pts := corners(geometry))]


# ---- drawing -------------------------------------------------------------------------------------

def _points_per_metre(n: int) -> float:
    return 1000 / n * 72 / 25.4


def _scale(width_m: float, height_m: float, room_w: float, room_h: float) -> int:
    """The largest standard scale 1:N at which the extent fits the room (points)."""
    for n in SCALES:
        k = _points_per_metre(n)
        if width_m * k <= room_w and height_m * k <= room_h:
            return n
    return SCALES[-1]


def _nice(length_m: float) -> float:
    """A round scale-bar length not above length_m (1, 2, 5 × 10^k metres)."""
    k = 10 ** math.floor(math.log10(length_m))
    return next(f * k for f in (5, 2, 1) if f * k <= length_m)


def _metres(v: float) -> str:
    return f"{v:.2f}"


def drawing(title, subtitle, subject, subject_label, neighbours, notes, width=None, height=560) -> Drawing:
    """A plan: `subject` corners (metres) heavy, `neighbours` [(label, corners)] light and labelled."""
    font = printing.font()
    width = width or printing.WIDTH
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, strokeColor=colors.black, strokeWidth=1, fillColor=None))
    d.add(String(width / 2, height - 28, title, fontName=font, fontSize=18, textAnchor="middle"))
    d.add(String(width / 2, height - 46, subtitle, fontName=font, fontSize=9, textAnchor="middle"))
    top, bottom, side = height - 60, 70, 30
    room_w, room_h = width - 2 * side - 60, top - bottom - 20
    everything = subject + [p for _label, pts in neighbours for p in pts]
    xs, ys = [p[0] for p in everything], [p[1] for p in everything]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    n = _scale(max(xs) - min(xs), max(ys) - min(ys), room_w, room_h)
    k = _points_per_metre(n)
    ox, oy = side + room_w / 2, bottom + room_h / 2 + 10

    def at(p):
        return ox + (p[0] - cx) * k, oy + (p[1] - cy) * k

    plan = Group()
    for label, pts in neighbours:
        flat = [v for p in pts for v in at(p)]
        plan.add(Polygon(flat, strokeColor=colors.grey, strokeWidth=0.6, fillColor=None, strokeDashArray=[3, 2]))
        lx, ly = at(_centre(pts))
        plan.add(String(lx, ly - 3, label, fontName=font, fontSize=8, textAnchor="middle", fillColor=colors.grey))
    flat = [v for p in subject for v in at(p)]
    plan.add(Polygon(flat, strokeColor=colors.black, strokeWidth=1.8, fillColor=colors.HexColor("#f3f3f3")))
    sx, sy = at(_centre(subject))
    for i, line in enumerate(subject_label):
        plan.add(String(sx, sy + 4 - i * 12, line, fontName=font, fontSize=9, textAnchor="middle"))
    _dimensions(plan, subject, at, font)
    d.add(plan)
    _north_arrow(d, width - 34, top - 40, font)
    _scale_bar(d, side, 40, n, k, font)
    d.add(String(width - side, 40, str(_l("Scale 1:%(n)s", n=n)), fontName=font, fontSize=9, textAnchor="end"))
    for i, line in enumerate(notes):
        d.add(String(side, 22 - i * 11, line, fontName=font, fontSize=8))
    return d


def _centre(pts):
    a = area(pts)
    if abs(a) < 1e-9:
        return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        f = x0 * y1 - x1 * y0
        cx, cy = cx + (x0 + x1) * f, cy + (y0 + y1) * f
    return cx / (6 * a), cy / (6 * a)


def _dimensions(group, pts, at, font):
    """Each edge's length in metres, written just outside the edge, along it."""
    ccw = area(pts) > 0
    for a, b in zip(pts, pts[1:] + pts[:1]):
        (x0, y0), (x1, y1) = at(a), at(b)
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1
        nx, ny = (dy / norm, -dx / norm) if ccw else (-dy / norm, dx / norm)  # outward normal
        mx, my = (x0 + x1) / 2 + nx * 9, (y0 + y1) / 2 + ny * 9
        angle = math.degrees(math.atan2(dy, dx))
        if angle > 90 or angle < -90:
            angle += 180  # never upside down
        label = Group(String(0, -3, _metres(length), fontName=font, fontSize=7.5, textAnchor="middle"))
        label.translate(mx, my)
        label.rotate(angle)
        group.add(label)


def _north_arrow(d, x, y, font):
    d.add(Polygon([x, y + 26, x - 7, y - 4, x, y + 4, x + 7, y - 4], strokeColor=colors.black,
                  fillColor=colors.black, strokeWidth=0.5))
    d.add(String(x, y + 30, "N", fontName=font, fontSize=10, textAnchor="middle"))
    d.add(String(x, y - 16, str(_l("North")), fontName=font, fontSize=8, textAnchor="middle"))


def _scale_bar(d, x, y, n, k, font):
    metres = _nice(120 / k)  # at most about 120 points long
    length = metres * k
    for i in range(4):
        d.add(Rect(x + i * length / 4, y, length / 4, 4, strokeColor=colors.black, strokeWidth=0.5,
                   fillColor=colors.black if i % 2 == 0 else colors.white))
    d.add(String(x, y + 7, "0", fontName=font, fontSize=7.5, textAnchor="middle"))
    unit = f"{metres:g} m"
    d.add(String(x + length, y + 7, unit, fontName=font, fontSize=7.5, textAnchor="middle"))
    d.add(Line(x, y, x + length, y, strokeColor=colors.black, strokeWidth=0.5))


def missing(title, subtitle, message, width=None, height=560) -> Drawing:
    """The plan page of a parcel or unit without geometry: a clear 附图待补 box, never an empty frame."""
    font = printing.font()
    width = width or printing.WIDTH
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, strokeColor=colors.black, strokeWidth=1, fillColor=None))
    d.add(String(width / 2, height - 28, title, fontName=font, fontSize=18, textAnchor="middle"))
    d.add(String(width / 2, height - 46, subtitle, fontName=font, fontSize=9, textAnchor="middle"))
    d.add(Rect(width / 2 - 110, height / 2 - 40, 220, 80, strokeColor=colors.black, strokeWidth=1.5,
               fillColor=None, strokeDashArray=[6, 3]))
    d.add(String(width / 2, height / 2 + 4, str(_l("Plan to be supplied")), fontName=font, fontSize=20,
                 textAnchor="middle"))
    d.add(String(width / 2, height / 2 - 22, message, fontName=font, fontSize=8.5, textAnchor="middle"))
    return d


# ---- the two plans of a unit ----------------------------------------------------------------------

def parcel_plan(parcel) -> Drawing:
    subtitle = f"{_l('Parcel code')}：{parcel.code}　{parcel.location}"
    pts = corners(parcel.geometry)
    if not pts:
        return missing(str(_l("Parcel plan")), subtitle, str(_l("The register holds no boundary for this parcel")))
    neighbours = parcel_neighbours(parcel)
    notes = [f"{_l('Parcel area')}：{parcel.area:,.2f} ㎡　{_l('Land use')}：{parcel.land_use or '—'}",
             str(_l("Drawn from the register's boundary coordinates (metres, local plane); dashed: adjacent parcels"))]
    return drawing(str(_l("Parcel plan")), subtitle, pts, [parcel.code[12:], f"{parcel.area:,.2f} ㎡"], neighbours, notes)


def unit_plan(unit) -> Drawing:
    building = unit.building
    subtitle = f"{_l('Unit code')}：{unit.unit_code}　{unit.location}"
    pts = corners(unit.geometry)
    if not pts:
        return missing(str(_l("Unit plan")), subtitle, str(_l("The register holds no outline for this unit")))
    notes = [f"{_l('Building')} {building.number}　{_l('Floor')} {unit.floor}/{building.floors}　"
             f"{_l('Room')} {unit.room}　{_l('Building area')}：{unit.area:,.2f} ㎡",
             str(_l("Drawn from the register's outline of the unit on its floor; dashed: the other units of the floor"))]
    return drawing(str(_l("Unit plan")), subtitle, pts, [f"{unit.room}室", f"{unit.area:,.2f} ㎡"],
                   floor_units(unit), notes)

