"""The parser interface and what every parser shares: opening files, building the frame."""

from __future__ import annotations

import hashlib
import json
import reprlib
from collections.abc import Iterator, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Protocol

import orjson
import polars as pl

from ..errors import LogFormatError
from ..fastpaths import declare, take
from ..schema import EVENT_SCHEMA


@dataclass(frozen=True, slots=True)
class Skipped:
    """Input the parser could not read: kept visible, never silently dropped."""

    line: int
    reason: str


FIRST_LINES = 5  # line numbers kept per kind of input not read


@dataclass(frozen=True, slots=True)
class Unread:
    """Input of one kind the parser did not understand: how much, and where it starts."""

    kind: str
    count: int
    lines: tuple[int, ...]  # the first ``FIRST_LINES``


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of a file its parser understood, in the format's own units (console lines,
    logging records, database rows, spans): a verdict is only as good as what it read."""

    unit: str
    total: int
    unread: tuple[Unread, ...] = ()
    """By kind: input skipped as broken, lines no pattern knows, record types not known."""

    @property
    def read(self) -> int:
        return max(0, self.total - sum(u.count for u in self.unread))

    @property
    def fraction(self) -> float:
        return self.read / self.total if self.total else 1.0

    def describe(self) -> str:
        """``read 3 of 412 records (0.7%)``."""
        return f"read {self.read:,} of {self.total:,} {self.unit} ({self.fraction:.1%})"

    def plus(self, other: Coverage, line_offset: int = 0) -> Coverage:
        """Both parts' counts (the other's line numbers shifted by ``line_offset``)."""
        kinds: dict[str, list[Any]] = {u.kind: [u.count, list(u.lines)] for u in self.unread}
        for u in other.unread:
            have = kinds.setdefault(u.kind, [0, []])
            have[0] += u.count
            have[1] = (have[1] + [n + line_offset for n in u.lines])[:FIRST_LINES]
        unread = tuple(Unread(k, c, tuple(lines)) for k, (c, lines) in kinds.items())
        return Coverage(self.unit, self.total + other.total, unread)


@dataclass(frozen=True, slots=True)
class ParsedLog:
    """A parser's output: the events, what it had to skip, and how much it understood."""

    events: pl.DataFrame
    skipped: tuple[Skipped, ...] = ()
    family: str | None = None
    """Overrides the format's framework family when the content tells (AG2 vs AgentChat spans)."""
    coverage: Coverage | None = None


class Sniff(float, Enum):
    """How sure a sniffer is that a file's head is in its format, named for the evidence: the
    highest claims the file (a tie goes to the earlier format in ``ALL_FORMATS``). A sniffer
    returns a tier, or ``graded`` evidence between two tiers; a new format picks the tier its
    evidence earns instead of a number that has to outbid the others."""

    SIGNATURE = 1.0
    """Bytes or a first record no other writer produces (SQLite's header, a session line)."""
    OWN_SHAPE = 0.95
    """A document shape only this format writes, though it may fit a more general format's
    too (OTLP's ``resourceSpans``, JSON records naming AutoGen's loggers)."""
    SHAPE = 0.9
    """The format's record shape, seen whole (a ConsoleSpanExporter span, an IOStream event)."""
    KEYS = 0.8
    """Records with the format's keys, but not its opening."""
    PIECE = 0.7
    """Records of its shape from the middle of a file (a fragment pasted into an issue)."""
    FRAGMENT = 0.6
    """A piece that other content could also be: one record longer than the head, a bare list
    of chat messages."""
    LINE = 0.45
    """A line of the format among other text (one logging record in a console transcript)."""
    TRACE = 0.15
    """Only a trace of the framework (a traceback frame in its code): better than no reader."""
    NONE = 0.0

    @staticmethod
    def graded(hits: int, first: Sniff, each: float) -> float:
        """Counted evidence: ``first`` for one hit, ``each`` more for every further one, up to
        ``SIGNATURE``; ``NONE`` without a hit."""
        if hits <= 0:
            return Sniff.NONE
        return min(float(Sniff.SIGNATURE), float(first) + each * (hits - 1))


class LogFormat(Protocol):
    """One input format: how to recognise it and how to turn it into events."""

    name: ClassVar[str]
    family: ClassVar[str]  # "classic" (AutoGen 0.2 API / ag2) or "agentchat" (0.4+)
    description: ClassVar[str]

    @staticmethod
    def sniff(head: str) -> float:
        """Confidence in [0, 1] that a file starting with ``head`` is in this format: a
        ``Sniff`` tier (or ``Sniff.graded``)."""
        ...

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        """All events of the file, ``EVENT_SCHEMA``; several runs are told apart by run_id."""
        ...


def loads(text: str | bytes) -> Any:
    """JSON decode; orjson is 3-5x faster than json on the large runtime-log lines."""
    return orjson.loads(text)


def json_documents(
    raw: str, first_line: int = 1
) -> Iterator[tuple[int, str, Any] | tuple[int, None, None]]:
    """The JSON documents of ``raw`` back to back (pretty-printed or not), each as (line it
    starts on, its text, its value); (line, None, None) where one does not decode, after
    which nothing more is read (a file cut mid-document)."""
    decoder = json.JSONDecoder()
    pos, line = 0, first_line
    while (start := raw.find("{", pos)) >= 0:
        line += raw.count("\n", pos, start)
        try:
            doc, end = decoder.raw_decode(raw, start)
        except json.JSONDecodeError:
            yield line, None, None
            return
        yield line, raw[start:end], doc
        line += raw.count("\n", start, end)
        pos = end


def canonical_json(value: Any) -> str:
    """Sorted, compact JSON so exact and fuzzy argument matching are stable across formats."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return str(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(value)


def parse_ts(text: str | None) -> datetime | None:
    """ISO-ish timestamps as written by AutoGen loggers; naive ones are UTC (``get_current_ts``)."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(",", "."))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp


Stamp = datetime | str | None  # a time, or its text as written (read as ``parse_ts`` reads it)
TS_TYPE = pl.Datetime("us", "UTC")
BULK_STAMPS = declare("bulk-stamps", 2000, "times", "times parsed by one polars expression")
# The shape nearly every logged time has (naive or UTC, "," or "." before the fraction), which
# polars parses in bulk as ``parse_ts`` would; years before 1000, hour 24 and leap seconds
# (which polars would take) and any other text go through ``parse_ts`` one by one.
_PLAIN_STAMP = (
    r"^[1-9]\d{3}-\d{2}-\d{2}[ T](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:[.,]\d{1,6})?(?:Z|\+00:00)?$"
)


def parse_stamps(values: Sequence[Stamp]) -> pl.Series:
    """``values`` as a UTC time column, texts read as ``parse_ts`` reads them but in bulk
    (110,000 runtime-log times: 0.03 s, against 0.28 s one by one, most of which went on
    building the column from Python datetimes); anything neither text nor time is null."""
    if not take(BULK_STAMPS, len(values)):  # polars' fixed cost (~2 ms) exceeds a small parse
        return pl.Series(
            [parse_ts(v) if isinstance(v, str) else _time_or_none(v) for v in values],
            dtype=TS_TYPE,
        )
    texts = pl.Series([v if isinstance(v, str) else None for v in values], dtype=pl.String)
    stamps = (
        texts.str.replace(r"(?:Z|\+00:00)$", "")
        .str.replace(",", ".", literal=True)
        .str.replace("T", " ", literal=True)
        .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
        .dt.replace_time_zone("UTC")
    )
    odd = (texts.is_not_null() & ~texts.str.contains(_PLAIN_STAMP)).arg_true().to_list()
    if odd:
        stamps = stamps.scatter(odd, pl.Series([parse_ts(texts[i]) for i in odd], dtype=TS_TYPE))
    if any(isinstance(v, datetime) for v in values):
        given = [_time_or_none(v) for v in values]
        stamps = pl.Series(given, dtype=TS_TYPE, strict=False).fill_null(stamps)
    return stamps


def _time_or_none(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


RUN_ID_LIMIT = 128


class EventSink:
    """Column-wise event buffer: parsers append, ``frame()`` builds the typed table once."""

    DEFAULT_RUN = "run-1"  # until the parser learns the log's own run id

    def __init__(self, source_format: str, run_id: str = DEFAULT_RUN) -> None:
        self.source_format = source_format
        self.run_id = run_id
        self._values: list[Any] = []  # row after row, ``_WIDTH`` values each
        self._bulk: list[tuple[int, pl.DataFrame]] = []  # (rows added before it, rows)
        self.skipped: list[Skipped] = []
        self.unit, self.total = "lines", 0  # what the parser counts, and how many it saw
        self._unread: dict[str, list[Any]] = {}  # kind -> [count, first lines]

    def __len__(self) -> int:
        return len(self._values) // _WIDTH + sum(rows.height for _, rows in self._bulk)

    @property
    def run_id(self) -> str:
        return self._run_id

    @run_id.setter
    def run_id(self, value: str) -> None:
        """A run's id as the log names it (a session uuid, a team's), bounded: a garbled line
        can make a 4 MB "session id", which every report would then carry (fuzz case 321)."""
        if len(value) > RUN_ID_LIMIT:
            digest = hashlib.sha1(value.encode("utf-8", "replace")).hexdigest()[:8]
            value = f"{value[: RUN_ID_LIMIT - 10]}…{digest}"
        self._run_id = value

    def add(
        self,
        kind: str,
        line: int,
        *,
        ref: str | None = None,
        agent: str | None = None,
        recipient: str | None = None,
        content: str | None = None,
        subkind: str | None = None,
        ts: Stamp = None,
        tool_name: str | None = None,
        tool_call_id: str | None = None,
        tool_args: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        duration_ms: float | None = None,
        is_error: bool = False,
        model: str | None = None,
        cost_usd: float | None = None,
    ) -> None:
        # A row's values go on one flat list in ``_ROW``'s order (tests/test_event_sink.py)
        # and ``frame`` slices the columns out: a quarter of the time of one append per
        # column (0.2 s against 0.76 s for 510,000 events), and no tracked object per row
        # to wake the garbage collector. ``seq`` is counted in ``frame``.
        self._values.extend(
            (
                self._run_id,
                line,
                ref,
                ts,
                kind,
                subkind,
                agent,
                recipient,
                content,
                tool_name,
                tool_call_id,
                tool_args,
                prompt_tokens,
                completion_tokens,
                duration_ms,
                is_error,
                self.source_format,
                model,
                cost_usd,
            )
        )

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append(Skipped(line, reason))
        self.unread(line, reason)

    def unread(self, line: int, kind: str, count: int = 1) -> None:
        """``count`` units at ``line`` that the parser did not understand, of ``kind``."""
        have = self._unread.get(kind)
        if have is None:
            have = self._unread[kind] = [0, []]
        have[0] += count
        if len(have[1]) < FIRST_LINES:
            have[1].append(line)

    def counted(self, total: int, unit: str | None = None) -> None:
        """The units the parser saw in all (``unit``: what they are, if not lines)."""
        self.total = total
        self.unit = unit or self.unit

    def coverage(self) -> Coverage:
        unread = tuple(Unread(k, c, tuple(lines)) for k, (c, lines) in self._unread.items())
        return Coverage(self.unit, self.total, unread)

    def result(self, family: str | None = None) -> ParsedLog:
        return ParsedLog(self.frame(), tuple(self.skipped), family, self.coverage())

    def add_rows(self, rows: pl.DataFrame) -> None:
        """Events a parser built in bulk, after those added so far: any of the event columns
        but ``run_id`` (the current run's) and ``seq`` (counted in ``frame``), in their
        types; ``source_line`` and ``kind`` at least."""
        if rows.height:
            rows = rows.with_columns(run_id=pl.lit(self._run_id, pl.String))
            self._bulk.append((len(self._values) // _WIDTH, rows))

    def frame(self) -> pl.DataFrame:
        # kind is built as String and cast strictly: an Enum column built directly would
        # silently turn an unknown kind into null. Times are read in bulk (``parse_stamps``).
        loose: dict[str, Any] = {**_ROW, "kind": pl.String}
        values = self._values
        cols = {name: values[k::_WIDTH] for k, name in enumerate(_ROW)}
        columns: dict[str, Any] = {
            **cols,
            **{name: as_texts(cols[name]) for name in _TEXT_COLUMNS},
            "ts": parse_stamps(cols["ts"]),
        }
        df = pl.DataFrame(columns, schema=loose, strict=False)
        if self._bulk:
            pieces, done = [], 0
            for before, rows in self._bulk:
                pieces += [df.slice(done, before - done), _in_row_types(rows, self.source_format)]
                done = before
            df = pl.concat([*pieces, df.slice(done)], how="vertical")
        # seq: the event's place among its run's events, in the order they were added.
        seq = pl.int_range(pl.len(), dtype=pl.UInt32).over("run_id")
        return df.with_columns(seq=seq).select(EVENT_SCHEMA.names()).cast(EVENT_SCHEMA, strict=True)


# The columns of a row as ``EventSink.add`` stores it: all but seq.
_ROW: dict[str, Any] = {name: dtype for name, dtype in EVENT_SCHEMA.items() if name != "seq"}
_WIDTH = len(_ROW)


def _in_row_types(rows: pl.DataFrame, source_format: str) -> pl.DataFrame:
    """Bulk rows with every row column, in the types ``frame`` builds them in."""
    loose = {**_ROW, "kind": pl.String}
    filled = {"is_error": False, "source_format": source_format}
    return rows.select(
        pl.col(name).cast(dtype)
        if name in rows.columns
        else pl.lit(filled.get(name), dtype).alias(name)
        for name, dtype in loose.items()
    )


# The text columns a parser may fill with a value it decoded from the log; the others it fills
# with its own strings (kind, subkind, source_format, source_ref; tool_args is canonical JSON).
_OWN_TEXTS = frozenset({"kind", "subkind", "source_format", "source_ref", "tool_args"})
_TEXT_COLUMNS = tuple(
    name for name, dtype in EVENT_SCHEMA.items() if dtype == pl.String and name not in _OWN_TEXTS
)
_TEXT_KINDS = frozenset({str, type(None)})
_BOUNDED = reprlib.Repr()  # keyword arguments only from Python 3.12
_BOUNDED.maxlevel, _BOUNDED.maxstring, _BOUNDED.maxother = 4, 2000, 2000
_BOUNDED.maxlist = _BOUNDED.maxdict = 20


def as_texts(values: list[Any]) -> list[Any]:
    """A text column as polars may take it: a value a parser took from decoded JSON where a
    name or text belongs (a list, a dict, a number) becomes text. Polars would take 65 s and
    10 GB to infer the type of a list nested 900 deep, even to refuse it; ``reprlib`` writes
    at most four levels. One pass in C (~20 ms a million values) when all are texts."""
    if set(map(type, values)) <= _TEXT_KINDS:
        return values
    return [v if v is None or type(v) is str else _as_text(v) for v in values]


def _as_text(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return str(value)
    return _BOUNDED.repr(value)


def require_events(
    path: Path,
    events: Sized,
    what: str,
    coverage: Coverage | None = None,
    hint: str = "",
) -> None:
    """A file that parsed to nothing is an error, not an empty healthy run; the error says
    whether the file held records the parser did not recognise, or nothing at all."""
    if len(events):
        return
    if coverage is None and isinstance(events, EventSink):
        coverage = events.coverage()
    if coverage is None or not coverage.total:
        raise LogFormatError(path, f"no {what} found (empty or truncated file?)")
    kinds = sorted(coverage.unread, key=lambda u: -u.count)
    why = f"; not understood: {kinds[0].kind} (from line {kinds[0].lines[0]})" if kinds else ""
    raise LogFormatError(
        path,
        f"no {what} found: {coverage.describe()}, none of them an AutoGen event{why}"
        + (f"; {hint}" if hint else ""),
    )
