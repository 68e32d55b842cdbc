"""The crawl: sign in as every role, follow every GET link the pages offer (menu, home, lists, a few
rows' pages) and fail on what a user should never see: a 5xx, English words on a Chinese page (Chinese
on an English one), None/True/False as a value, an object's repr, a microsecond timestamp, a raw
business or state key. New pages are found from the menu, so a console added later is crawled too."""
import re
from collections import deque
from pathlib import Path
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from app import rulebook

RULES = Path(__file__).resolve().parent.parent / "rules"

# Every role of the demo (README's logins), and the visitor.
ROLES_ZH = ["admin", "reviewer", "configurator", "public", "bank_a_admin", "bank_a_op", "dev_admin", None]
ROLES_EN = ["admin", "bank_a_op", "reviewer", None]

# Links a crawl must not follow: they change state, leave the HTML pages, or only switch something.
SKIP = re.compile(r"/logout|/lang/|/static/|/captcha/|download|/export|/delete|\.pdf|\.xlsx|\.png|\.jpg|\.svg"
                  r"|/api/|/swagger|/sandbox|/openapi|/healthz|/metrics|/_|/jobs/\d+/cancel|mailto:|javascript:")
PAGES_PER_ROLE = 200  # admin reaches ~180 pages, every other role fewer
SAME_PATTERN = 2  # pages of one route pattern (show/2, show/7 ...) visited per role

# English words a Chinese page may hold: proper nouns, units, formats, the brand names of systems.
WHITELIST = {"Excel", "HTTPS", "HTTP", "YAML", "JSON", "LDAP", "OAuth", "HMAC", "OpenAPI", "Email", "email",
             "WebSocket", "Redis", "Celery", "PostgreSQL", "SQLite", "Chrome", "Chromium", "Edge", "Firefox",
             "Windows", "Linux", "UKey", "USBKey", "yyyy", "YYYY", "HHMM", "UTF", "CSV", "PKCS",
             "jpeg", "JPEG", "PNG", "PDF", "English", "GeoJSON", "CIDR", "https"}  # "English": the language menu names the other language
# A word of 4+ letters standing alone: not part of an identifier (bank_a_op), a path, an address or a number.
WORD = re.compile(r"(?<![A-Za-z0-9_./@:-])[A-Za-z]{4,}(?![A-Za-z0-9_])(?![A-Za-z0-9_@.-]*[@/])")
# FAB's permission pages (roles, permissions, views/menus) list the code's own view and permission names
# (can_list on CaseView): identifiers of the RBAC, like an API's docs; every other check still applies.
IDENTIFIER_PAGES = re.compile(r"^/(roles|permissions|viewmenus|permissionviews)/")
REPR = re.compile(r"<[^<>]* object at 0x|object at 0x[0-9a-f]+")
# Chinese an English page may hold: an amount in capital numerals (大写, the legal form of an amount on
# Chinese documents, like a unit) and terms of art glossed in English text.
CAPITAL_AMOUNT = re.compile(r"^[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整]+$")
TERMS = {"调休上班"}
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,6}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


class Text(HTMLParser):
    """A page's visible text as a list of text nodes (script, style and hidden JSON blocks left out),
    plus its links; button/submit values and placeholders count as visible. <code>, <pre> and <textarea>
    hold what a configurator types in a rules file (field names, the YAML itself): identifiers, not words."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template", "code", "pre", "textarea"):
            self._skip += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("placeholder", "title", "aria-label"):
            if attrs.get(key):
                self.nodes.append(attrs[key])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.nodes.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "code", "pre", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(data.strip())


class Known:
    """What the crawl knows of the app: the rules' business and state keys (codes a user never reads),
    the demo's account names (data: an account is typed as it is), and the Chinese the database holds
    (names, addresses: data, which an English page shows as entered)."""

    def __init__(self, app):
        from sqlalchemy import String, Text as TextType, select

        from app.demo import ACCOUNTS
        from app.extensions import db
        from flask_appbuilder import Model
        with app.app_context():
            businesses = rulebook.all_businesses()
            chunks = [str(app.config.get("APP_NAME", ""))]
            for table in Model.metadata.sorted_tables:
                if table.name.startswith("rule_"):  # the rules' own labels must come out of the catalogue
                    continue
                columns = [c for c in table.columns if isinstance(c.type, (String, TextType))]
                if columns:
                    for row in db.session.execute(select(*columns).limit(5000)):
                        chunks.extend(str(v) for v in row if v and CHINESE.search(str(v)))
        # What the rules' authors wrote in Chinese only (a material's description, the manual a business
        # follows): content, shown as written; a text with an English version must show that one.
        for path in RULES.glob("**/*.yaml"):
            chunks.extend(line for line in path.read_text(encoding="utf-8").splitlines()
                          if CHINESE.search(line) and "en:" not in line and not line.lstrip().startswith("#"))
        self.data = "\n".join(chunks)
        self.keys = {b.key for b in businesses}
        self.states = set().union(*(b.workflow.states for b in businesses))
        self.accounts = {a[0] for a in ACCOUNTS}
        self.roles = {a[2] for a in ACCOUNTS} - {"Admin", "Public"}  # InstitutionOperator ...: keys, not words

    def is_data(self, node):
        return CAPITAL_AMOUNT.match(node) or all(run in self.data or run in TERMS
                                                 for run in re.findall(r"[\u4e00-\u9fff]+", node))


def pattern(path):
    return re.sub(r"/\d+", "/<id>", path)


def local(href):
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIP.search(href):
        return None
    # one page per list and its filters: sort and paging links show the same words
    args = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith(("_oc_", "_od_", "page", "psize"))
            and k not in ("after", "before")]
    return parts.path + ("?" + urlencode(args) if args else "")


def problems(url, text_nodes, lang, known):
    found = []
    joined = "\n".join(text_nodes)
    for node in text_nodes:
        if node in ("None", "True", "False"):
            found.append(f"value {node!r}")
        if node in known.keys or node in known.states:
            found.append(f"raw key {node!r}")
    for key in known.keys | {s for s in known.states if "_" in s}:
        if re.search(rf"(?<![\w/-]){re.escape(key)}(?![\w/-])", joined):
            found.append(f"raw key {key!r}")
    if not IDENTIFIER_PAGES.search(url):
        found.extend(f"role key {r!r}" for r in sorted(known.roles) if re.search(rf"\b{r}\b", joined))
    if REPR.search(joined):
        found.append("repr " + REPR.search(joined).group(0))
    if MICROSECONDS.search(joined):
        found.append("microseconds " + MICROSECONDS.search(joined).group(0))
    if lang == "zh":
        if not IDENTIFIER_PAGES.search(url):
            english = sorted({w for w in WORD.findall(joined) if w not in WHITELIST and w not in known.accounts})
            if english:
                found.append("English: " + ", ".join(english[:12]))
    else:
        chinese = [n for n in text_nodes if CHINESE.search(n) and n.strip("- ") != "中文" and not known.is_data(n)]
        if chinese:
            found.append("Chinese: " + " | ".join(chinese[:6]))
    return found


def crawl(client, lang, limit):
    known = Known(client.application)
    seen, per_pattern, report, visited = set(), {}, [], 0
    queue = deque(["/"])
    while queue and visited < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        pat = pattern(urlsplit(url).path)
        if per_pattern.get(pat, 0) >= SAME_PATTERN:
            continue
        per_pattern[pat] = per_pattern.get(pat, 0) + 1
        response = client.get(url)
        visited += 1
        if response.status_code >= 500:
            report.append(f"{url}: HTTP {response.status_code}")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = local(response.headers.get("Location", ""))
            if target and target not in seen:
                queue.append(target)
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = Text()
        parser.feed(response.get_data(as_text=True))
        report.extend(f"{url}: {p}" for p in problems(url, parser.nodes, lang, known))
        for href in parser.links:
            target = local(href)
            if target and target not in seen:
                queue.append(target)
    return visited, report


@pytest.mark.parametrize("username", ROLES_ZH, ids=lambda u: u or "visitor")
def test_every_page_in_chinese_shows_words(client, username):
    if username:
        client.auth.login(username)
    visited, report = crawl(client, "zh", PAGES_PER_ROLE)
    assert visited >= 3, f"only {visited} pages reached"
    assert not report, f"{username}: {len(report)} problems on {visited} pages:\n" + "\n".join(report[:60])


@pytest.mark.parametrize("username", ROLES_EN, ids=lambda u: u or "visitor")
def test_every_page_in_english_has_no_chinese_left(client, username):
    if username:
        client.auth.login(username)
    client.get("/lang/en")
    try:
        visited, report = crawl(client, "en", PAGES_PER_ROLE // 2)
    finally:
        client.get("/lang/zh")
    assert visited >= 3, f"only {visited} pages reached"
    assert not report, f"{username}: {len(report)} problems on {visited} pages:\n" + "\n".join(report[:60])
