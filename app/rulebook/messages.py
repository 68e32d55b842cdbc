"""Every message the rulebook's checks can give, in one catalogue (English msgids, zh in
translations/rules/zh).

A problem is kept as data: file, line, key path and a Message (catalogue entry + parameters). It is
put into words only when shown:

- in a request (the configurator console), in the user's language: Chinese by default, English
  after /lang/en;
- without a request (start-up, `flask` commands, scripts, logs), in English. A broken rules file
  stops start-up; that text is read by whoever deploys the files, in a terminal or a log collector,
  and must not depend on a compiled catalogue or on a locale nobody chose. English is also what
  PyYAML's own syntax details are written in, so the line reads in one language.

Pydantic's errors are turned into catalogue messages by their error type (from_pydantic), naming
what was expected and what was found, so configurators never see "Input should be a valid ...".
"""
from dataclasses import dataclass

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class Message:
    """A catalogue entry with its parameters; str() renders it in the reader's language."""
    __slots__ = ("msgid", "params")

    def __init__(self, msgid, params=()):
        self.msgid = msgid
        self.params = tuple(sorted(dict(params).items()))

    def render(self, translate=None):
        translate = has_request_context() if translate is None else translate
        text = _(self.msgid) if translate else self.msgid
        values = {k: (v.render(translate) if isinstance(v, Message) else v) for k, v in self.params}
        return text % values if values else text

    def __str__(self):
        return self.render()

    def __repr__(self):
        return f"Message({self.render(False)!r})"

    def __eq__(self, other):
        return isinstance(other, Message) and (self.msgid, self.params) == (other.msgid, other.params)

    def __hash__(self):
        return hash((self.msgid, self.params))


class Entry:
    """One catalogue entry: `_l("...")` marks the msgid for extraction; calling it gives a Message."""

    def __init__(self, lazy):
        # flask_babel's LazyString keeps the msgid as its first argument; we need the untranslated
        # text to render in English where there is no request.
        self.msgid = lazy._args[0]

    def __call__(self, **params):
        return Message(self.msgid, params)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a rules file: where (file, 1-based line, key path) and what."""
    filename: str
    line: int            # 0: not tied to a line
    path: tuple          # None: not tied to a key (syntax error, empty file)
    message: Message

    def render(self, translate=None):
        translate = has_request_context() if translate is None else translate
        path = None if self.path is None else format_path(self.path) or TOP().render(translate)
        frame = (WHERE_LINE_PATH if path is not None else WHERE_LINE) if self.line else WHERE_FILE
        params = {"file": self.filename, "line": self.line, "path": path, "message": self.message}
        return Message(frame.msgid, {k: v for k, v in params.items() if v is not None}).render(translate)

    def __str__(self):
        return self.render()

    def english(self):
        return self.render(False)


def format_path(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def join(names):
    return ", ".join(str(n) for n in names)


# -- where ------------------------------------------------------------------------------------
WHERE_LINE_PATH = Entry(_l("%(file)s, line %(line)s: %(path)s: %(message)s"))
WHERE_LINE = Entry(_l("%(file)s, line %(line)s: %(message)s"))
WHERE_FILE = Entry(_l("%(file)s: %(message)s"))
SAVED_MEANWHILE = Entry(_l("version %(version)s was saved by someone else meanwhile; reload and try again"))
TOP = Entry(_l("(top)"))
INVALID_RULES = "Invalid rules:"   # the start-up failure's heading (English, see above)

# -- reading the YAML -------------------------------------------------------------------------
YAML_SYNTAX = Entry(_l("YAML syntax error: %(detail)s"))
YAML_TAB = Entry(_l("a tab is used for indentation; indent with spaces"))
YAML_COLON = Entry(_l("a colon is not allowed here: check the indentation, or quote a value that contains ': '"))
YAML_INDENT = Entry(_l("the indentation does not match the lines above"))
YAML_UNCLOSED_QUOTE = Entry(_l("a quoted text is not closed"))
YAML_UNCLOSED_BRACKET = Entry(_l("a [list] or {mapping} is not closed"))
YAML_NO_COLON = Entry(_l("a key is not followed by ':'"))
NOT_A_DATE = Entry(_l("'%(value)s' looks like a date but is not one; correct it, or quote it if it is text"))
EMPTY_FILE = Entry(_l("the file is empty"))
KEY_NOT_PLAIN = Entry(_l("keys must be plain words"))
BOOLEAN_KEY = Entry(_l("the bare key '%(key)s' is read as a boolean by YAML; quote it or choose another word"))
DUPLICATE_KEY = Entry(_l("duplicate key '%(key)s'"))

# -- shape (pydantic's error types) -----------------------------------------------------------
REQUIRED_MISSING = Entry(_l("required key is missing"))
UNKNOWN_KEY = Entry(_l("unknown key '%(key)s'"))
EXPECTED_TEXT = Entry(_l("should be text, not %(given)s"))
EXPECTED_NOT_EMPTY = Entry(_l("should not be empty"))
EXPECTED_PATTERN = Entry(_l("%(given)s does not have the required form %(pattern)s"))
EXPECTED_KEY_WORD = Entry(_l("%(given)s should be 2 to 60 lowercase letters, digits or underscores, starting with a letter"))
EXPECTED_BOOLEAN = Entry(_l("should be true or false, not %(given)s"))
EXPECTED_INTEGER = Entry(_l("should be a whole number, not %(given)s"))
EXPECTED_NUMBER = Entry(_l("should be a number, not %(given)s"))
EXPECTED_AMOUNT = Entry(_l("should be an amount in quotes such as \"80.00\", not %(given)s"))
EXPECTED_DATE = Entry(_l("should be a date such as 2025-01-31, not %(given)s"))
EXPECTED_ONE_OF = Entry(_l("should be one of %(expected)s, not %(given)s"))
EXPECTED_LIST = Entry(_l("should be a list, not %(given)s"))
EXPECTED_MAPPING = Entry(_l("should be a mapping of keys to values, not %(given)s"))
EXPECTED_NAME_OR_MAPPING = Entry(_l("should be a name or a mapping, not %(given)s"))
TOO_FEW = Entry(_l("needs at least %(min)s item(s), found %(actual)s"))
TOO_MANY = Entry(_l("allows at most %(max)s item(s), found %(actual)s"))
AT_MOST = Entry(_l("should be at most %(limit)s, not %(given)s"))
AT_LEAST = Entry(_l("should be at least %(limit)s, not %(given)s"))
BELOW = Entry(_l("should be less than %(limit)s, not %(given)s"))
ABOVE = Entry(_l("should be more than %(limit)s, not %(given)s"))
INVALID_VALUE = Entry(_l("invalid value (%(detail)s)"))
GIVEN_MAPPING = Entry(_l("a mapping"))
GIVEN_LIST = Entry(_l("a list"))
GIVEN_NOTHING = Entry(_l("an empty value"))

# -- schema rules (app/rulebook/schema.py) ----------------------------------------------------
CHOICE_NEEDS_VOCABULARY = Entry(_l("a choice field needs a vocabulary"))
MAX_BELOW_MIN = Entry(_l("max (%(max)s) is smaller than min (%(min)s)"))
AMOUNT_AS_TEXT = Entry(_l("write amounts as quoted strings, e.g. \"80.00\""))
AMOUNT_CENTS = Entry(_l("amount must be non-negative with at most two decimals"))

# -- vocabularies and workflows ---------------------------------------------------------------
VOCABULARIES_NOT_MAPPING = Entry(_l("expected a mapping of vocabulary names to lists"))
VOCABULARY_NOT_LIST = Entry(_l("expected a list of {code, name}"))
DUPLICATE_CODE = Entry(_l("duplicate code '%(code)s'"))
ONE_INITIAL_STATE = Entry(_l("exactly one initial state needed, found %(found)s"))
NONE_FOUND = Entry(_l("none"))
UNKNOWN_STATE = Entry(_l("unknown state '%(name)s' (known: %(known)s)"))
FINAL_STATE_LEAVES = Entry(_l("final state '%(name)s' cannot have an outgoing transition"))
UNKNOWN_ROLE = Entry(_l("unknown role '%(name)s' (known: %(known)s)"))
NOT_A_TARGET = Entry(_l("'%(target)s' is not a target of this transition (targets: %(targets)s)"))
UNKNOWN_GUARD = Entry(_l("unknown guard '%(name)s' (known: %(known)s)"))
UNKNOWN_EFFECT = Entry(_l("unknown effect '%(name)s' (known: %(known)s)"))
UNKNOWN_EXECUTOR = Entry(_l("unknown executor '%(name)s' (known: applicant, %(known)s)"))
UNREACHABLE_STATE = Entry(_l("state '%(name)s' cannot be reached from '%(initial)s'"))
DEAD_END_STATE = Entry(_l("state '%(name)s' is a dead end: not final and nothing leaves it"))
UNKNOWN_WORKFLOW = Entry(_l("unknown workflow '%(name)s' (known: %(known)s)"))
UNKNOWN_EVENT = Entry(_l("the workflow has no event '%(event)s' (known: %(known)s)"))
WAIT_GUARD_NOT_OF_TRANSITION = Entry(_l("'%(name)s' is not one of this transition's guards (%(known)s)"))
WAIT_STATE_FINAL = Entry(_l("a case cannot wait in the final state '%(name)s'"))

# -- business files ---------------------------------------------------------------------------
TOP_NOT_MAPPING = Entry(_l("expected a mapping at the top of the file"))
KEY_NOT_FILE_NAME = Entry(_l("key '%(key)s' must match the file name '%(expected)s'"))
UNKNOWN_CATEGORY = Entry(_l("unknown category '%(name)s' (vocabulary categories: %(known)s)"))
UNKNOWN_REGISTRATION_TYPE = Entry(_l("unknown registration type '%(name)s' (vocabulary registration_types: %(known)s)"))
UNKNOWN_LOOKUP_RECORD = Entry(_l("unknown lookup record '%(name)s' (known: %(known)s)"))
LOOKUP_KEYS = Entry(_l("lookup by '%(record)s' needs exactly the keys %(needed)s, not %(given)s"))
UNKNOWN_VALIDATOR = Entry(_l("unknown validator '%(name)s' (known: %(known)s)"))
UNKNOWN_CHECK = Entry(_l("unknown check '%(name)s' (known: %(known)s)"))
FIELD_TWICE = Entry(_l("field '%(name)s' is declared twice"))
UNKNOWN_VOCABULARY = Entry(_l("unknown vocabulary '%(name)s' (known: %(known)s)"))
REQUIRED_WHEN_UNKNOWN = Entry(_l("required_when refers to unknown field '%(name)s'"))
AFTER_NOT_DATE = Entry(_l("after must name a date field of the same form, not '%(name)s'"))
ONLY_WHEN_UNKNOWN = Entry(_l("only_when refers to unknown field '%(name)s'"))
DATE_RULE_NOT_DATE = Entry(_l("%(key)s applies to a date field only"))
MAX_YEARS_NEEDS_AFTER = Entry(_l("max_years_after needs after (the field the years count from)"))
NOT_A_DATE_VALUE = Entry(_l("expected a date such as 1949-10-01, not %(given)s"))
MATERIAL_TWICE = Entry(_l("material key '%(key)s' is declared twice"))
NO_ACCEPTED_TYPE = Entry(_l("at least one accepted file type is needed"))

# -- what effects and guards need (registry.py declares it) ------------------------------------
UNKNOWN_OPTION = Entry(_l("unknown effect option '%(name)s' (the effects of this business take: %(known)s)"))
OPTION_NOT_ROLE = Entry(_l("'%(name)s' is not a party role of form.parties (known: %(known)s)"))
OPTION_NOT_FIELD = Entry(_l("'%(name)s' is not a per-unit field of the form (known: %(known)s)"))
OPTION_NOT_CODE = Entry(_l("'%(name)s' is not a code of vocabulary %(vocab)s (known: %(known)s)"))
EFFECT_NEEDS_ROLE = Entry(_l("effect '%(effect)s' needs the party role '%(role)s' in form.parties (known: %(known)s)"))
GUARD_NEEDS_SECTION = Entry(_l("guard '%(guard)s' reads the key '%(section)s', which this business does not declare"))
SECTION_NEEDS_GUARD = Entry(_l("'%(section)s' is declared but no transition checks it (add the guard '%(guard)s')"))
SECTION_FIELD = Entry(_l("'%(name)s' is not a field of %(section)s (known: %(known)s)"))
DECLARATION_NO_CONFIRM = Entry(_l("party role '%(role)s' signs the declaration with its confirmation code, so it needs 'confirm: true'"))
UTILITIES_NOT_BATCH = Entry(_l("'utilities' needs a business of one unit per case (batch: false)"))
SECTION_ROLE = Entry(_l("'%(name)s' is not a party role of form.parties (known: %(known)s)"))
GUARD_NEEDS_ROLE = Entry(_l("guard '%(guard)s' needs the party role '%(role)s' in form.parties (%(source)s)"))
GUARD_NEEDS_FIELD = Entry(_l("guard '%(guard)s' needs the per-unit field '%(name)s' (%(source)s)"))
ISSUE_BEFORE_RECORD = Entry(_l("effect '%(effect)s' comes before the register effect '%(record)s'; the register effect must come first"))
ISSUE_WITHOUT_RECORD = Entry(_l("effect '%(effect)s' can run from state '%(state)s' before any register effect (%(known)s): nothing would be issued"))
PREFILL_UNKNOWN = Entry(_l("prefill names '%(name)s', which a %(record)s record does not have (known: %(known)s)"))
PREFILL_NO_RECORD = Entry(_l("lookup record '%(record)s' carries no record to prefill '%(name)s' from"))
REQUIRED_WHEN_VALUE = Entry(_l("'%(value)s' is not a code of vocabulary %(vocab)s of field '%(name)s' (known: %(known)s)"))
OVERRIDE_DROPS = Entry(_l("the override drops %(names)s of the shared workflow; name them under 'remove' to remove them on purpose"))
REMOVE_NOT_THERE = Entry(_l("'%(name)s' is not among the shared transition's guards or effects (%(known)s)"))
SPAN_BACKWARDS = Entry(_l("the span ends (%(end)s) before it starts (%(start)s)"))

# -- versions ---------------------------------------------------------------------------------
PART_MISSING = Entry(_l("this shared part of version %(version)s is missing from the stored rules"))
PRECEDENCE = Entry(_l("Shared files (workflows, vocabularies, tax rates, calendar) always come from the rules "
                      "directory and reach every business in a new version. A business file is followed until "
                      "the business is edited here; from then on this console's version wins, and a newer "
                      "business file is offered below as a three-way view (file / console / merged) to merge. "
                      "Cases keep the version they started with."))


# -- pydantic ---------------------------------------------------------------------------------
def given(value):
    """What the file says, for "not ..." in a message: a short quote, or the kind of thing."""
    if isinstance(value, dict):
        return GIVEN_MAPPING()
    if isinstance(value, list):
        return GIVEN_LIST()
    if value is None or value == "":
        return GIVEN_NOTHING()
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"'{text[:37]}…'" if len(text) > 40 else f"'{text}'"


def _expected(text):
    # pydantic writes the allowed literals as "'a', 'b' or 'c'"
    return ", ".join(part.strip() for part in text.replace(" or ", ", ").split(","))


_BY_TYPE = {
    "string_type": EXPECTED_TEXT, "string_sub_type": EXPECTED_TEXT, "string_unicode": EXPECTED_TEXT,
    "bool_type": EXPECTED_BOOLEAN, "bool_parsing": EXPECTED_BOOLEAN,
    "int_type": EXPECTED_INTEGER, "int_parsing": EXPECTED_INTEGER, "int_from_float": EXPECTED_INTEGER,
    "int_parsing_size": EXPECTED_INTEGER,
    "float_type": EXPECTED_NUMBER, "float_parsing": EXPECTED_NUMBER,
    "decimal_type": EXPECTED_AMOUNT, "decimal_parsing": EXPECTED_AMOUNT, "decimal_max_digits": EXPECTED_AMOUNT,
    "decimal_max_places": EXPECTED_AMOUNT, "decimal_whole_digits": EXPECTED_AMOUNT,
    "date_type": EXPECTED_DATE, "date_parsing": EXPECTED_DATE, "date_from_datetime_parsing": EXPECTED_DATE,
    "date_from_datetime_inexact": EXPECTED_DATE,
    "list_type": EXPECTED_LIST, "tuple_type": EXPECTED_LIST, "set_type": EXPECTED_LIST,
    "dict_type": EXPECTED_MAPPING, "model_type": EXPECTED_MAPPING, "model_attributes_type": EXPECTED_MAPPING,
    "dataclass_type": EXPECTED_MAPPING,
}


def from_pydantic(err, key=None):
    """A catalogue message for one of pydantic's errors (err from ValidationError.errors())."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return REQUIRED_MISSING()
    if kind == "extra_forbidden":
        return UNKNOWN_KEY(key=key)
    if kind == "value_error":
        error = ctx.get("error")
        if error is not None and error.args and isinstance(error.args[0], Message):
            return error.args[0]   # raised by schema.py with a catalogue message
        return INVALID_VALUE(detail=str(err["msg"]).removeprefix("Value error, "))
    if kind in _BY_TYPE:
        return _BY_TYPE[kind](given=given(value))
    if kind in ("literal_error", "enum"):
        return EXPECTED_ONE_OF(expected=_expected(str(ctx.get("expected", ""))), given=given(value))
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") in (1, None) and not value:
        return EXPECTED_NOT_EMPTY() if kind == "string_too_short" else TOO_FEW(min=1, actual=0)
    if kind == "too_short":
        return TOO_FEW(min=ctx.get("min_length"), actual=ctx.get("actual_length"))
    if kind == "too_long":
        return TOO_MANY(max=ctx.get("max_length"), actual=ctx.get("actual_length"))
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == r"^[a-z][a-z0-9_]{1,59}$":
            return EXPECTED_KEY_WORD(given=given(value))
        return EXPECTED_PATTERN(given=given(value), pattern=ctx.get("pattern"))
    for name, entry in (("le", AT_MOST), ("ge", AT_LEAST), ("lt", BELOW), ("gt", ABOVE)):
        if name in ctx and kind.endswith(("_equal", "_than")):
            return entry(limit=ctx[name], given=given(value))
    return INVALID_VALUE(detail=err["msg"])
