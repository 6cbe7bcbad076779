"""How logs are read, whatever their format: files opened through compression, encodings
and container wrappers (``files``, ``streams``, ``transcode``, ``container_logs``); lines in
blocks (``line_batches``); a large log parsed on every core (``split_parse``); a growing one
parsed by its new parts (``incremental``). No format's meaning lives here."""
