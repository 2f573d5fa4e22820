"""Public data for every chain: one downloader (:mod:`pgml.fetch.http`), a content cache shared by runs
(:mod:`pgml.fetch.cache`), the sources with their URL templates written once (:mod:`pgml.fetch.sources`)
and ``pgml fetch <source>`` (:mod:`pgml.fetch.cli`).

Ground floor: this package imports no chain, and no chain needs it to run on files already in place.
"""
