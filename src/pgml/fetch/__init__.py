"""Public data for every chain, through one downloader and a content cache shared by runs.

- :mod:`pgml.fetch.http`: requests + urllib3 Retry, timeouts, per-host rate limit, streaming, Range resume,
  refusal of HTML and empty bodies;
- :mod:`pgml.fetch.cache`: ``$PGML_CACHE`` with each file's URL, size and checksums recorded beside it;
- :mod:`pgml.fetch.core`: items, mirrors in order, checksum checks, delivery by atomic rename, offline;
- :mod:`pgml.fetch.sources`, :mod:`pgml.fetch.providers`, :mod:`pgml.fetch.weights`: the sources, their
  URL templates written once, and those that need a metadata request (RCSB search, ENCODE, Synapse);
- :mod:`pgml.fetch.annotation`: GENCODE GTF -> the six annotation BEDs DeepGRN reads;
- :mod:`pgml.fetch.plan`: what a fetch would download (``--plan``); :mod:`pgml.fetch.cli`: ``pgml fetch``.

Ground floor: this package imports no chain, and no chain needs it to run on files already in place.
"""
