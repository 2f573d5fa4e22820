"""Defaults of ``pgml fetch``, written once (flags and the schema's ``fetch`` sections repeat them).

Timeouts follow requests' advice (a connect timeout a little over a multiple of 3 s, a read timeout
long enough for a slow archive to send its first byte); retries and backoff follow urllib3's
:class:`~urllib3.util.Retry` (``backoff * 2**(n-1)`` seconds before retry ``n``, or the server's
``Retry-After``).
"""

from __future__ import annotations

#: seconds to open a connection / to wait for the next bytes of a response
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: attempts after the first, for connection errors and 429/5xx answers (urllib3 Retry ``total``)
RETRIES = 5
#: urllib3 backoff factor (s): 1, 2, 4, 8, ... seconds between attempts, at most BACKOFF_MAX
BACKOFF = 1.0
BACKOFF_MAX = 120.0
#: longest Retry-After honoured (s); a longer one is cut to this (urllib3 >= 2.6 ``retry_after_max``)
RETRY_AFTER_MAX = 600
#: answers retried; 429 and 503 honour Retry-After
RETRY_STATUS = (429, 500, 502, 503, 504)
#: restarts of one body with ``Range`` after the connection dropped mid-file
RESUMES = 5
#: requests per second to one host (PDB, UCSC, ENCODE ask for polite, sequential clients)
RATE = 5.0
#: failed items a step tolerates (exit 0 with a warning) before it exits 3; for archives where a few
#: entries of a published list were withdrawn
MAX_FAILURES = 0
#: bytes read per chunk
CHUNK = 1 << 16
#: plan: at most this many HEAD requests; larger sets are estimated from a sample of this size
PLAN_SAMPLE = 20
#: PDB file formats
PDB_FORMATS = ("cif", "pdb")
#: PDB mirrors tried in order (wwPDB partners: RCSB PDB, PDBj, the wwPDB archive)
PDB_MIRRORS = ("rcsb", "pdbj", "wwpdb")
#: SCOPe release of the HomologyTAPE domains (IEConv's fold task)
SCOPE_VERSION = "1.75"
#: AlphaFold DB model version
ALPHAFOLD_VERSION = 4
#: CASP round
CASP_ROUND = 14
CASP_KINDS = ("target-list", "targets", "server-models")
#: RCSB search defaults for the bfactor set (X-ray, better than 2.5 Å, protein)
RCSB_METHOD = "X-RAY DIFFRACTION"
RCSB_MAX_RESOLUTION = 2.5
RCSB_POLYMER_TYPE = "Protein"
#: environment variable holding a Synapse personal access token
SYNAPSE_TOKEN_ENV = "SYNAPSE_AUTH_TOKEN"
