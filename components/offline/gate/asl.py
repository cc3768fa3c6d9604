"""A state machine definition against the Amazon States Language: structure, paths and intrinsic functions.

Rules from the spec (https://states-language.net/spec.html) and the Step Functions developer guide,
which adds fields (Assign, JSONata's Arguments/Output, Map's ItemReader and friends) and the intrinsic
functions with their arities. Task parameters are checked by `tasks`.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

#: (path, value, rule, source)
Issue = tuple[str, Any, str, str]

SPEC = "Amazon States Language spec, https://states-language.net/spec.html"
GUIDE_STATES = "Step Functions guide, state types, https://docs.aws.amazon.com/step-functions/latest/dg/concepts-states.html"
GUIDE_INTRINSICS = ("Step Functions guide, intrinsic functions, "
                    "https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html")
GUIDE_ERRORS = ("Step Functions guide, error names, "
                "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html")
MAX_NAME = 80

_COMMON = {"Type", "Comment", "QueryLanguage"}
FIELDS: dict[str, frozenset[str]] = {kind: frozenset(_COMMON | fields) for kind, fields in {
    "Pass": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign", "Output"},
    "Task": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry",
             "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
             "Credentials", "Assign", "Arguments", "Output"},
    "Choice": {"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"},
    "Wait": {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath",
             "Assign", "Output"},
    "Succeed": {"InputPath", "OutputPath", "Output"},
    "Fail": {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry",
                 "Catch", "Branches", "Assign", "Arguments", "Output"},
    "Map": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ItemSelector", "ResultSelector",
            "Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath", "Items", "MaxConcurrency",
            "MaxConcurrencyPath", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label",
            "Assign", "Arguments", "Output"},
}.items()}
_JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})
_JSONPATH_ONLY = frozenset({"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemSelector",
                            "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
                            "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
                            "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"})
_TERMINAL = frozenset({"Succeed", "Fail", "Choice"})
_PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath", "TimestampPath",
                "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath",
                "ToleratedFailureCountPath")
_TOP_FIELDS = frozenset({"States", "StartAt", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"})
_PROCESSOR_FIELDS = frozenset({"States", "StartAt", "Comment", "ProcessorConfig", "QueryLanguage"})

_COMPARATORS = frozenset(
    [f"{kind}{op}{suffix}" for kind in ("String", "Numeric", "Timestamp")
     for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals") for suffix in ("", "Path")]
    + ["StringMatches", "BooleanEquals", "BooleanEqualsPath", "IsNull", "IsPresent", "IsNumeric", "IsString",
       "IsBoolean", "IsTimestamp"])

#: Intrinsic functions for JSONPath states and their (min, max) argument counts (None: no maximum).
INTRINSICS: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None), "States.StringToJson": (1, 1), "States.JsonToString": (1, 1),
    "States.Array": (0, None), "States.ArrayPartition": (2, 2), "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3), "States.ArrayGetItem": (2, 2), "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1), "States.Base64Encode": (1, 1), "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2), "States.JsonMerge": (3, 3), "States.MathRandom": (2, 3), "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2), "States.UUID": (0, 0),
}

_SEGMENT = re.compile(
    r"\.\.?(?:\*|[^.\[\]\s(),'\"]+)"  # .name, ..name, .*
    r"|\[\s*(?:\*|-?\d+(?:\s*,\s*-?\d+)*|-?\d*:-?\d*(?::-?\d*)?|'[^']*'|\"[^\"]*\"|\?\(.*?\))\s*\]")  # [..]
_ROOT = re.compile(r"\$\$?(?:[A-Za-z_]\w*)?")


def valid_path(text: Any) -> bool:
    """A JSONPath (`$`, `$$` context or `$var` variable) whose every segment parses."""
    if not isinstance(text, str):
        return False
    match = _ROOT.match(text)
    if not match:
        return False
    position = match.end()
    while position < len(text):
        segment = _SEGMENT.match(text, position)
        if not segment:
            return False
        position = segment.end()
    return True


class _IntrinsicError(ValueError):
    pass


class _Parser:
    """Recursive descent over one intrinsic-function expression."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def fail(self, why: str) -> NoReturn:
        raise _IntrinsicError(f"{why} at character {self.at + 1}")

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] == " ":
            self.at += 1

    def call(self) -> None:
        match = re.compile(r"States\.[A-Za-z0-9]+").match(self.text, self.at)
        if not match:
            self.fail("expected an intrinsic function name")
        name = match.group(0)
        if name not in INTRINSICS:
            raise _IntrinsicError(f"{name} is not an intrinsic function (known: {', '.join(sorted(INTRINSICS))})")
        self.at = match.end()
        if self.text[self.at:self.at + 1] != "(":
            self.fail(f"expected '(' after {name}")
        self.at += 1
        args: list[tuple[str, str | None]] = []
        self.skip()
        if self.text[self.at:self.at + 1] == ")":
            self.at += 1
        else:
            while True:
                self.skip()
                args.append(self.argument())
                self.skip()
                char = self.text[self.at:self.at + 1]
                self.at += 1
                if char == ")":
                    break
                if char != ",":
                    self.at -= 1
                    self.fail(f"expected ',' or ')' in {name}")
        low, high = INTRINSICS[name]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
            raise _IntrinsicError(f"{name} takes {wanted} argument(s), got {len(args)}")
        if name == "States.Format" and args[0][0] == "string" and args[0][1] is not None:
            placeholders = args[0][1].count("{}")
            if placeholders != len(args) - 1:
                raise _IntrinsicError(f"States.Format's template has {placeholders} placeholder(s) '{{}}' for "
                                      f"{len(args) - 1} value(s)")

    def argument(self) -> tuple[str, str | None]:
        char = self.text[self.at:self.at + 1]
        if char == "'":
            return "string", self.string()
        if char == "$":
            start, depth, quote = self.at, 0, ""
            while self.at < len(self.text):
                c = self.text[self.at]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c in "[(":
                    depth += 1
                elif c in "])":
                    if depth == 0:
                        break
                    depth -= 1
                elif c == "," and depth == 0:
                    break
                self.at += 1
            path = self.text[start:self.at].strip()
            if not valid_path(path):
                raise _IntrinsicError(f"{path!r} is not a valid JSONPath")
            return "path", None
        if self.text.startswith("States.", self.at):
            self.call()
            return "call", None
        match = re.compile(r"-?\d+(?:\.\d+)?|null|true|false").match(self.text, self.at)
        if not match:
            self.fail("expected a string, number, JSONPath or intrinsic function")
        self.at = match.end()
        return "literal", None

    def string(self) -> str:
        self.at += 1
        out = []
        while self.at < len(self.text):
            c = self.text[self.at]
            if c == "\\":
                nxt = self.text[self.at + 1:self.at + 2]
                out.append("\\" + nxt if nxt in "{}" else nxt)  # escaped braces are no placeholder
                self.at += 2
                continue
            if c == "'":
                self.at += 1
                return "".join(out)
            out.append(c)
            self.at += 1
        self.fail("unterminated string")


def intrinsic_problem(text: str) -> str | None:
    """Why `text` is not one well-formed intrinsic-function call, or None."""
    parser = _Parser(text.strip())
    try:
        parser.call()
        if parser.at != len(parser.text):
            parser.fail("unexpected text after the call")
    except _IntrinsicError as error:
        return str(error)
    return None


def dynamic_problem(value: Any) -> str | None:
    """Why the value of a `.$` field is neither a JSONPath nor an intrinsic function, or None."""
    if not isinstance(value, str):
        return "a '.$' field takes a JSONPath or an intrinsic function, as a string"
    if value.startswith("States."):
        return intrinsic_problem(value)
    if not valid_path(value):
        return f"{value!r} is not a valid JSONPath"
    return None


def _template(value: Any, path: str) -> Iterator[Issue]:
    """A payload template (Parameters, ResultSelector, ItemSelector, Credentials): its `.$` fields."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if str(key).endswith(".$"):
                problem = dynamic_problem(item)
                if problem:
                    source = GUIDE_INTRINSICS if isinstance(item, str) and item.startswith("States.") else SPEC
                    yield where, item, problem, source
            else:
                yield from _template(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template(item, f"{path}[{index}]")


def _error_list(state: Mapping[str, Any], field: str, path: str, targets: set[str] | None) -> Iterator[Issue]:
    entries = state.get(field)
    if entries is None:
        return
    if not isinstance(entries, list):
        yield f"{path}.{field}", entries, f"{field} must be a list", SPEC
        return
    for index, entry in enumerate(entries):
        where = f"{path}.{field}[{index}]"
        if not isinstance(entry, Mapping):
            yield where, entry, f"each {field} entry must be an object", SPEC
            continue
        names = entry.get("ErrorEquals")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            yield f"{where}.ErrorEquals", names, "ErrorEquals must be a non-empty list of error names", SPEC
            continue
        if "States.ALL" in names and (len(names) > 1 or index != len(entries) - 1):
            yield f"{where}.ErrorEquals", names, "States.ALL must appear alone and in the last entry", SPEC
        allowed = ({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
                    "Comment"} if field == "Retry" else {"ErrorEquals", "Next", "ResultPath", "Comment", "Assign",
                                                         "Output"})
        for key in entry:
            if key not in allowed:
                yield f"{where}.{key}", entry[key], f"a {field} entry has no field {key!r}", GUIDE_ERRORS
        if field == "Catch":
            target = entry.get("Next")
            if not isinstance(target, str):
                yield f"{where}.Next", target, "a Catch entry needs Next", SPEC
            elif targets is not None and target not in targets:
                yield f"{where}.Next", target, f"Catch target {target!r} is not a state in this scope", SPEC
            if "ResultPath" in entry and entry["ResultPath"] is not None and not valid_path(entry["ResultPath"]):
                yield f"{where}.ResultPath", entry["ResultPath"], "not a valid JSONPath", SPEC


def _choice_rule(rule: Any, path: str, top: bool, targets: set[str]) -> Iterator[Issue]:
    if not isinstance(rule, Mapping):
        yield path, rule, "a choice rule must be an object", SPEC
        return
    if top:
        target = rule.get("Next")
        if not isinstance(target, str):
            yield f"{path}.Next", target, "a top-level choice rule needs Next", SPEC
        elif target not in targets:
            yield f"{path}.Next", target, f"Choice target {target!r} is not a state in this scope", SPEC
    elif "Next" in rule:
        yield f"{path}.Next", rule["Next"], "only top-level choice rules may have Next", SPEC
    if "Condition" in rule:
        return  # JSONata
    booleans = [k for k in ("And", "Or", "Not") if k in rule]
    comparators = [k for k in rule if k in _COMPARATORS]
    extra = [k for k in rule if k not in _COMPARATORS and k not in {"And", "Or", "Not", "Variable", "Next",
                                                                      "Comment", "Assign", "Output"}]
    for key in extra:
        yield f"{path}.{key}", rule[key], f"{key!r} is not a choice-rule field or comparison operator", SPEC
    if len(booleans) + len(comparators) != 1:
        yield path, sorted(booleans + comparators), "a choice rule has exactly one operator", SPEC
        return
    if booleans:
        operands = rule[booleans[0]]
        if booleans[0] == "Not":
            yield from _choice_rule(operands, f"{path}.Not", False, targets)
        elif not isinstance(operands, list) or not operands:
            yield f"{path}.{booleans[0]}", operands, f"{booleans[0]} takes a non-empty list of rules", SPEC
        else:
            for index, operand in enumerate(operands):
                yield from _choice_rule(operand, f"{path}.{booleans[0]}[{index}]", False, targets)
        return
    if not valid_path(rule.get("Variable")):
        yield f"{path}.Variable", rule.get("Variable"), "a comparison needs Variable, a valid JSONPath", SPEC
    operator = comparators[0]
    if operator.endswith("Path") and not valid_path(rule[operator]):
        yield f"{path}.{operator}", rule[operator], "not a valid JSONPath", SPEC


class _Walk:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.issues: list[Issue] = []
        self.states = 0

    def machine(self, machine: Any, path: str, language: str, allowed: frozenset[str]) -> None:
        if not isinstance(machine, Mapping):
            self.issues.append((path or "(definition)", machine, "must be an object with StartAt and States", SPEC))
            return
        for key in machine:
            if key not in allowed:
                self.issues.append((f"{path}.{key}" if path else key, machine[key],
                                    f"{key!r} is not a field here (allowed: {', '.join(sorted(allowed))})", SPEC))
        language = machine.get("QueryLanguage", language)
        states = machine.get("States")
        prefix = f"{path}.States" if path else "States"
        if not isinstance(states, Mapping) or not states:
            self.issues.append((prefix, states, "States must be a non-empty object", SPEC))
            return
        start = machine.get("StartAt")
        if not isinstance(start, str) or start not in states:
            self.issues.append((f"{path}.StartAt" if path else "StartAt", start,
                                "StartAt must name a state in this scope", SPEC))
        names = set(states)
        for name, state in states.items():
            self.state(str(name), state, f"{prefix}[{name!r}]", language, names)
        if isinstance(start, str) and start in states:
            reached = _reachable(start, states)
            for name in states:
                if name not in reached:
                    self.issues.append((f"{prefix}[{name!r}]", name,
                                        f"state {name!r} cannot be reached from StartAt {start!r}", SPEC))

    def state(self, name: str, state: Any, path: str, language: str, targets: set[str]) -> None:
        self.states += 1
        issues = self.issues
        if name in self.names:
            issues.append((path, name, f"state name {name!r} is used again (first at {self.names[name]}); names "
                                       f"must be unique in the whole state machine, including Parallel branches and "
                                       f"Map processors (AWS: DUPLICATE_STATE_NAME)", SPEC))
        else:
            self.names[name] = path
        if len(name) > MAX_NAME:
            issues.append((path, name, f"state names are at most {MAX_NAME} characters (this one has {len(name)})",
                           SPEC))
        if not isinstance(state, Mapping):
            issues.append((path, state, "a state must be an object", SPEC))
            return
        kind = state.get("Type")
        if kind not in FIELDS:
            issues.append((f"{path}.Type", kind, f"Type must be one of {', '.join(FIELDS)}", SPEC))
            return
        language = state.get("QueryLanguage", language)
        for key in state:
            if key not in FIELDS[kind]:
                issues.append((f"{path}.{key}", state[key], f"a {kind} state has no field {key!r}", GUIDE_STATES))
            elif language == "JSONata" and key in _JSONPATH_ONLY:
                issues.append((f"{path}.{key}", state[key], f"{key!r} is a JSONPath field; this state uses JSONata",
                               GUIDE_STATES))
            elif language != "JSONata" and key in _JSONATA_ONLY:
                issues.append((f"{path}.{key}", state[key], f"{key!r} is a JSONata field; this state uses JSONPath",
                               GUIDE_STATES))
        if kind not in _TERMINAL:
            has_next, ends = "Next" in state, state.get("End") is True
            if has_next == ends:
                issues.append((path, name, f"a {kind} state needs exactly one of Next or \"End\": true", SPEC))
            if has_next and state["Next"] not in targets:
                issues.append((f"{path}.Next", state["Next"], f"Next target {state['Next']!r} is not a state in "
                                                              f"this scope", SPEC))
        elif "Next" in state or "End" in state:
            issues.append((path, name, f"a {kind} state ends its branch: no Next or End", SPEC))
        if language != "JSONata":
            for field in _PATH_FIELDS:
                value = state.get(field)
                if field in state and value is not None and not valid_path(value):
                    issues.append((f"{path}.{field}", value, "not a valid JSONPath", SPEC))
            for field in ("ErrorPath", "CausePath"):
                value = state.get(field)
                if isinstance(value, str) and dynamic_problem(value):
                    issues.append((f"{path}.{field}", value, str(dynamic_problem(value)), GUIDE_INTRINSICS))
            for field in ("Parameters", "ResultSelector", "ItemSelector", "Credentials", "Assign"):
                if field in state:
                    issues.extend(_template(state[field], f"{path}.{field}"))
        if kind in ("Task", "Parallel", "Map"):
            issues.extend(_error_list(state, "Retry", path, None))
            issues.extend(_error_list(state, "Catch", path, targets))
        if kind == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                issues.append((f"{path}.Choices", choices, "Choices must be a non-empty list", SPEC))
            else:
                for index, rule in enumerate(choices):
                    issues.extend(_choice_rule(rule, f"{path}.Choices[{index}]", True, targets))
            if "Default" in state and state["Default"] not in targets:
                issues.append((f"{path}.Default", state["Default"], "Default is not a state in this scope", SPEC))
        if kind == "Task" and not isinstance(state.get("Resource"), str):
            issues.append((f"{path}.Resource", state.get("Resource"), "a Task state needs a Resource ARN", SPEC))
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                issues.append((f"{path}.Branches", branches, "Branches must be a non-empty list", SPEC))
            else:
                for index, branch in enumerate(branches):
                    self.machine(branch, f"{path}.Branches[{index}]", language, _PROCESSOR_FIELDS)
        if kind == "Map":
            field = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            if field not in state:
                issues.append((path, name, "a Map state needs ItemProcessor", SPEC))
            else:
                self.machine(state[field], f"{path}.{field}", language, _PROCESSOR_FIELDS)


def _targets(state: Mapping[str, Any]) -> list[Any]:
    found = [state.get("Next"), state.get("Default")]
    for rule in state.get("Choices") or []:
        if isinstance(rule, Mapping):
            found.append(rule.get("Next"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, Mapping):
            found.append(catcher.get("Next"))
    return [t for t in found if isinstance(t, str)]


def _reachable(start: str, states: Mapping[str, Any]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        state = states.get(todo.pop())
        if isinstance(state, Mapping):
            for target in _targets(state):
                if target in states and target not in seen:
                    seen.add(target)
                    todo.append(target)
    return seen


def check_structure(definition: Any) -> tuple[list[Issue], int]:
    """Every structural issue of `definition` (a parsed JSON object), and how many states it has."""
    walk = _Walk()
    language = definition.get("QueryLanguage", "JSONPath") if isinstance(definition, Mapping) else "JSONPath"
    walk.machine(definition, "", language, _TOP_FIELDS)
    return walk.issues, walk.states


def each_task(machine: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, state) of every Task state, and of Map ItemReader/ResultWriter blocks, at every depth."""
    if not isinstance(machine, Mapping) or not isinstance(machine.get("States"), Mapping):
        return
    prefix = f"{path}.States" if path else "States"
    for name, state in machine["States"].items():
        if not isinstance(state, Mapping):
            continue
        where = f"{prefix}[{name!r}]"
        if state.get("Type") == "Task":
            yield where, state
        for index, branch in enumerate(state.get("Branches") or [] if state.get("Type") == "Parallel" else []):
            yield from each_task(branch, f"{where}.Branches[{index}]")
        if state.get("Type") == "Map":
            for field in ("ItemProcessor", "Iterator"):
                if field in state:
                    yield from each_task(state[field], f"{where}.{field}")
            for field in ("ItemReader", "ResultWriter"):
                if isinstance(state.get(field), Mapping):
                    yield f"{where}.{field}", state[field]
