"""``pgml report``: the summary the HTML report (``snakemake --report``) opens on.

Ground floor: reads each chain's evaluation table as a plain TSV (the columns are named in
:data:`pgml.report.summary.HEADLINES`) and imports no chain.
"""
