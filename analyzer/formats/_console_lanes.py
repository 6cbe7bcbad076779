"""The classic console's lines, classified by polars for the console parser.

A console transcript is mostly plain text between a few lines that matter: message headers,
the 80-dash rules closing messages, ``Next speaker:`` lines, banners, prompts, tracebacks.
Polars marks those lines (``mark``), so the parser's state machine sees only them and takes
the plain lines between as one piece. It also finds *lanes*: stretches where the transcript is
nothing but plain messages and speaker selections (``sender (to recipient):``, text, rule;
``Next speaker: X``) with nothing between them outside a message but blank lines and the
framework's own logging. In a lane the state machine would only add those events, so polars
builds them itself and the parser takes them in one step. A loop left running prints little
else: 100 MB of it are 500,000 events that no Python code touches one by one.

Every test here is the state machine's own, so a lane holds exactly what the parser would have
read (tested equal on every console sample and its rewrites).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The framework's own logging records on the console (``[autogen.oai.client: 11-24 20:45:27]``).
FRAMEWORK_LOG = re.compile(r"^\[(?:autogen|ag2)[\w.]*: ")
NAME_LIMIT = 200  # characters of an agent name in a ``sender (to recipient):`` header

# What Python's str.isspace() and re's \s take as whitespace; Rust's \s leaves out \x1c-\x1f.
PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Lines that may change the parser's state or start an event; every other line is plain text
# of whatever is being read. Marking more is always safe, only slower.
MARK_STARTS = (
    "-",  # the rule that ends a message
    ">>>>>>>> ",
    "Next speaker: ",
    "*****",  # tool call / response blocks and the star row closing them
    "Arguments:",
    "Call ID: ",
    "Input arguments: ",
    "Output:",
)
MARK_CONTAINS = (" (to ", "eedback to", "Traceback (")

# A lane: messages (header, rule) and speaker selections; a unit in lower case has output
# other than blank lines and logging after it, which the parser reads: the lane ends there.
LANE = re.compile(r"(?:HR|N)*(?:Hr|n)?")


@dataclass(frozen=True, slots=True)
class Batch:
    """A block of the console's lines as the parser takes it (``tables``)."""

    lines: pl.DataFrame  # line, text (ANSI codes removed), loud (cumulative; see ``tables``)
    marked: list[int]  # rows of the lines that go through the state machine
    codes: str  # per marked line: H header, R rule, N next speaker, x anything else
    events_before: pl.Series  # per marked line: the lane events of the marked lines before it
    events: pl.DataFrame  # the lane events of the marked lines coded H or N, in order
    speakers: pl.Series  # per lane event: the speaker a ``Next speaker`` line picked, or null

    @classmethod
    def of(
        cls, lines: pl.DataFrame, marked: pl.DataFrame, events: pl.DataFrame, codes: pl.DataFrame
    ) -> Batch:
        return cls(
            lines,
            marked["row"].to_list(),
            codes.item() or "",
            marked["events_before"],
            events.drop("speaker"),
            events["speaker"],
        )


def tables(lines: pl.DataFrame) -> tuple[pl.LazyFrame, ...]:
    """The batch's lines; its marked lines (row, events before each); the lane events of
    the marked lines; their codes as one text (see ``Batch``)."""
    text = pl.col("text")
    mark = pl.any_horizontal(
        *(text.str.starts_with(start) for start in MARK_STARTS),
        *(text.str.contains(part, literal=True) for part in MARK_CONTAINS),
    )
    # "loud": neither empty nor the framework's logging. Outside messages, only such lines
    # give the parser anything to do; ``loud`` counts them up to and including each line.
    loud = ~((text == "") | text.str.contains(FRAMEWORK_LOG.pattern))
    if lines["text"].str.contains("\x1b", literal=True).any():  # colours: 1 ms to look
        lines = lines.with_columns(text.str.replace_all(ANSI.pattern, ""))
    numbered = (
        lines.lazy()
        .with_columns(mark.alias("mark"), loud.alias("is_loud"))
        .with_columns(pl.col("is_loud").cast(pl.Int64).cum_sum().alias("loud"))
        .with_row_index("row")
    )
    # Loud lines after each marked line, before the next (or the batch's end).
    at_mark = pl.when(pl.col("mark")).then(pl.col("loud") - pl.col("is_loud").cast(pl.Int64))
    gap_loud = at_mark.shift(-1).backward_fill().fill_null(pl.col("loud").last()) - pl.col("loud")
    # A marked line and the plain ones after it; sorted, which spares grouping a hash.
    gid = pl.col("mark").cum_sum().set_sorted().alias("gid")
    maybe_header = text.str.contains(" (to ", literal=True)
    numbered = numbered.with_columns(
        gid, gap_loud.alias("gap_loud"), maybe_header.alias("maybe_header")
    )
    # A message's text: the plain lines after a header. Gathered as lists and joined after:
    # a quarter of the time of joining in the aggregation.
    after_header = pl.when(pl.col("mark")).then(pl.col("maybe_header")).forward_fill()
    bodies = (
        numbered.filter(~pl.col("mark") & after_header)
        .group_by("gid")
        .agg(text)
        .select("gid", text.list.join("\n").alias("body"))
    )
    # ``_header``: the first " (to " splits sender from recipient; the line, less trailing
    # space, ends with "):"; names of 1-200 characters, the sender's not starting with a space.
    parts = pl.col("header").struct
    sender, rest = parts.field("field_0"), parts.field("field_1").str.strip_chars_end(PY_SPACE)
    to = rest.str.strip_suffix("):")
    is_header = (
        rest.str.ends_with("):")
        & sender.str.len_chars().is_between(1, NAME_LIMIT)
        & to.str.len_chars().is_between(1, NAME_LIMIT)
        & ~sender.str.slice(0, 1).is_in(list(PY_SPACE))
    )
    # ``NEXT_SPEAKER``: a name starting with no space, less trailing space.
    named = text.str.strip_prefix("Next speaker: ")
    speaker = (
        pl.when(
            text.str.starts_with("Next speaker: ")
            & (named != "")
            & ~named.str.slice(0, 1).is_in(list(PY_SPACE))
        )
        .then(named.str.strip_chars_end(PY_SPACE))
        .alias("speaker")
    )
    plain = ~text.str.contains("eedback to", literal=True) & ~text.str.contains(
        "Traceback (", literal=True
    )
    code = (
        pl.when(~plain)
        .then(pl.lit("x"))
        .when(is_header)
        .then(pl.lit("H"))
        .when(text.str.strip_chars_end(PY_SPACE) == "-" * 80)  # ``RULE``
        .then(pl.lit("R"))
        .when(speaker.is_not_null())
        .then(pl.lit("N"))
        .otherwise(pl.lit("x"))
    )
    quiet_after = pl.col("gap_loud") == 0
    marked = (
        numbered.filter(pl.col("mark"))
        .join(bodies, on="gid", how="left", maintain_order="left")
        .with_columns(text.str.split_exact(" (to ", 1).alias("header"), speaker)
        .with_columns(code.alias("code"), sender.alias("agent"), to.alias("to"))
        .with_columns(
            pl.when(pl.col("code").is_in(["R", "N"]) & ~quiet_after)
            .then(pl.col("code").str.to_lowercase())
            .otherwise(pl.col("code"))
            .alias("code"),
            pl.col("code").is_in(["H", "N"]).alias("event"),
        )
    )
    events = marked.filter(pl.col("event")).select(
        pl.col("line").cast(pl.UInt32).alias("source_line"),
        pl.when(pl.col("code") == "H")
        .then(pl.lit("message"))
        .otherwise(pl.lit("other"))
        .alias("kind"),
        pl.when(pl.col("code") == "H")
        .then(pl.lit(None, pl.String))
        .otherwise(pl.lit("speaker_selected"))
        .alias("subkind"),
        pl.when(pl.col("code") == "H").then(pl.col("agent")).alias("agent"),
        pl.when(pl.col("code") == "H")
        .then(pl.col("to"))
        .otherwise(pl.col("speaker"))
        .alias("recipient"),
        pl.when(pl.col("code") == "H")
        .then(pl.col("body").fill_null("").str.strip_chars(PY_SPACE))
        .otherwise(pl.lit("Next speaker: ") + pl.col("speaker"))
        .alias("content"),
        "speaker",
    )
    return (
        numbered.select("line", "text", "loud"),
        marked.select(
            pl.col("row").cast(pl.Int64),
            (pl.col("event").cast(pl.Int64).cum_sum() - pl.col("event").cast(pl.Int64)).alias(
                "events_before"
            ),
        ),
        events,
        marked.select(pl.col("code").str.join("")),
    )
