#!/usr/bin/python3
"""Strict reader of the Prometheus text exposition format 0.0.4 for t_metrics.sh.

Usage: metrics_parse.py FILE

Checks the whole text against the format and the rules for counters and
histograms, then prints one line per sample, "NAME{LABELS} VALUE", with the
labels sorted by name, so that the shell can look series up with grep.
Exits with status 1 and one line per problem on standard error when the text
breaks a rule.  When python3-prometheus-client is installed, its parser must
also read the text and find the same samples.
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(
    rf"^({NAME})(?:\{{((?:{LABEL_NAME}={LABEL_VALUE}(?:,{LABEL_NAME}={LABEL_VALUE})*)?,?)\}})?"
    r" ([^ ]+)(?: (-?[0-9]+))?$")
LABEL = re.compile(rf"({LABEL_NAME})=({LABEL_VALUE})")
HELP = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")
TYPES_WITH_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"),
                       "summary": ("_sum", "_count")}


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", text):
        raise ValueError(f"invalid value {text!r}")
    return float(text)


def unescape(quoted):
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


def family_of(name, types):
    """Returns the family that sample NAME belongs to, by its TYPE line."""
    if name in types:
        return name
    for kind, suffixes in TYPES_WITH_SUFFIXES.items():
        for suffix in suffixes:
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) == kind:
                return base
    return None


class Reader:
    def __init__(self):
        self.problems = []
        self.types = {}
        self.helps = set()
        self.samples = {}          # key -> (name, labels, value, line number)
        self.finished = set()      # families whose samples ended
        self.current = None

    def problem(self, line_number, text):
        self.problems.append(f"line {line_number}: {text}")

    def comment(self, number, line):
        help_match, type_match = HELP.match(line), TYPE.match(line)
        if help_match:
            name = help_match.group(1)
            if name in self.helps:
                self.problem(number, f"second HELP for {name}")
            self.helps.add(name)
        elif type_match:
            name = type_match.group(1)
            if name in self.types:
                self.problem(number, f"second TYPE for {name}")
            if name in self.finished or name == self.current:
                self.problem(number, f"TYPE for {name} after its samples")
            self.types[name] = type_match.group(2)
        elif line.startswith("# HELP") or line.startswith("# TYPE"):
            self.problem(number, f"malformed comment {line!r}")

    def sample(self, number, line):
        match = SAMPLE.match(line)
        if not match:
            self.problem(number, f"malformed sample {line!r}")
            return
        name, labels_text, value_text = match.group(1), match.group(2) or "", match.group(3)
        labels = dict((k, unescape(v)) for k, v in LABEL.findall(labels_text))
        if len(labels) != len(LABEL.findall(labels_text)):
            self.problem(number, f"duplicate label in {line!r}")
        try:
            value = parse_value(value_text)
        except ValueError as error:
            self.problem(number, str(error))
            return
        family = family_of(name, self.types)
        if family is None:
            self.problem(number, f"sample {name} has no TYPE line before it")
            family = name
        if family != self.current:
            if family in self.finished:
                self.problem(number, f"samples of {family} are not contiguous")
            if self.current:
                self.finished.add(self.current)
            self.current = family
        if self.types.get(family) == "counter" and (value < 0 or math.isnan(value)):
            self.problem(number, f"counter {name} is {value_text}")
        key = name + "{" + ",".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "}"
        if key in self.samples:
            self.problem(number, f"duplicate series {key}")
        self.samples[key] = (name, labels, value, number)

    def read(self, text):
        if text and not text.endswith("\n"):
            self.problem(text.count("\n") + 1, "the text does not end with a line break")
        for number, line in enumerate(text.split("\n")[:-1], 1):
            if line == "":
                self.problem(number, "empty line")
            elif line.startswith("#"):
                self.comment(number, line)
            else:
                self.sample(number, line)
        self.check_histograms()

    def check_histograms(self):
        """Buckets must grow with le, end at +Inf, and +Inf must equal _count."""
        groups = {}
        for name, labels, value, number in self.samples.values():
            family = family_of(name, self.types)
            if self.types.get(family) != "histogram":
                continue
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            group = groups.setdefault((family, rest), {"buckets": [], "count": None, "sum": None})
            if name.endswith("_bucket"):
                if "le" not in labels:
                    self.problem(number, f"{name} without le")
                    continue
                group["buckets"].append((parse_value(labels["le"]), value, number))
            elif name.endswith("_count"):
                group["count"] = value
            elif name.endswith("_sum"):
                group["sum"] = value
        for (family, rest), group in groups.items():
            where = f"{family}{dict(rest)}"
            buckets = sorted(group["buckets"], key=lambda b: b[2])
            bounds = [b[0] for b in buckets]
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                self.problem(buckets[0][2], f"{where}: le bounds are not increasing")
            counts = [b[1] for b in buckets]
            if counts != sorted(counts):
                self.problem(buckets[0][2], f"{where}: buckets are not cumulative")
            if not bounds or bounds[-1] != math.inf:
                self.problem(0, f"{where}: no le=\"+Inf\" bucket")
            elif group["count"] is None or group["sum"] is None:
                self.problem(0, f"{where}: _count or _sum missing")
            elif counts[-1] != group["count"]:
                self.problem(0, f"{where}: +Inf bucket {counts[-1]} != _count {group['count']}")


def check_with_client_library(text, samples):
    """Returns problems found by python3-prometheus-client's parser, if installed."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return []
    problems = []
    seen = 0
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = sample.name + "{" + ",".join(
                    f'{k}="{sample.labels[k]}"' for k in sorted(sample.labels)) + "}"
                seen += 1
                if key not in samples or samples[key][2] != sample.value and not (
                        math.isnan(sample.value) and math.isnan(samples[key][2])):
                    problems.append(f"prometheus_client read {key} = {sample.value}")
    except Exception as error:  # the library raises ValueError and others
        return [f"prometheus_client cannot parse the text: {error}"]
    if seen != len(samples):
        problems.append(f"prometheus_client read {seen} samples, this reader {len(samples)}")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as source:
        text = source.read()
    reader = Reader()
    reader.read(text)
    problems = reader.problems + check_with_client_library(text, reader.samples)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    for key, (_, _, value, _) in sorted(reader.samples.items()):
        print(f"{key} {value:.17g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
