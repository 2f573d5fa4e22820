"""One HTTP client for every source: timeouts, retries, a per-host rate limit, streaming and resume.

Built on requests with urllib3's :class:`~urllib3.util.Retry` rather than pooch: pooch fetches one
file per call into its own cache with a registry of known hashes, but pgml needs what pooch does not
give in one place: a per-host rate limit across thousands of PDB entries, ``Range`` resume of a
multi-GB body whose connection dropped, provider md5s (ENCODE, Synapse) beside sha256, mirrors tried in
order, POST queries to the RCSB search API and an authorisation header for Synapse. Retry handles
connection errors and 429/5xx answers with exponential backoff and honours ``Retry-After``.

:func:`download` streams one URL into a temporary file. When the connection drops mid-body it asks for
the rest with ``Range: bytes=N-`` and appends when the server answers ``206`` with the matching
``Content-Range``; a ``200`` answer starts the file over. Bodies are read raw (no transparent gzip
decoding), so a ``.gz`` file arrives byte for byte and byte offsets mean what ``Range`` says. An HTML
page or an empty body where data is expected is refused (:class:`FetchError`): login walls, quota pages
and error pages served with status 200 never become data.
"""

from __future__ import annotations

import inspect
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from pgml import __version__
from pgml.fetch import params

USER_AGENT = f"pgml/{__version__} (+https://github.com/pgml; python-requests)"
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<?xml version=\"1.0\"?>\n<!doctype html")


class FetchError(Exception):
    """One item could not be fetched; the message names the URL and why.

    ``resumable``: the connection failed with part of the body on disk, which a later run may resume.
    """

    def __init__(self, message: str, *, resumable: bool = False):
        super().__init__(message)
        self.resumable = resumable


@dataclass
class Settings:
    """Network settings of one run (defaults: :mod:`pgml.fetch.params`)."""

    connect_timeout: float = params.CONNECT_TIMEOUT
    read_timeout: float = params.READ_TIMEOUT
    retries: int = params.RETRIES
    backoff: float = params.BACKOFF
    rate: float = params.RATE
    resumes: int = params.RESUMES


@dataclass
class RateLimiter:
    """At most ``rate`` requests per second to each host (0: no limit)."""

    rate: float
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, url: str) -> None:
        if self.rate <= 0:
            return
        host = urlsplit(url).netloc
        with self._lock:
            now = time.monotonic()
            ready = self._last.get(host, 0.0) + 1.0 / self.rate
            if ready > now:
                time.sleep(ready - now)
            self._last[host] = max(now, ready)


class Client:
    """A requests session with Retry, timeouts and a rate limiter, shared by all items of a run."""

    def __init__(self, settings: Settings | None = None, headers: dict[str, str] | None = None):
        self.settings = settings or Settings()
        extra = {}
        if "retry_after_max" in inspect.signature(Retry.__init__).parameters:  # urllib3 >= 2.6
            extra["retry_after_max"] = params.RETRY_AFTER_MAX
        retry = Retry(
            total=self.settings.retries, connect=self.settings.retries, read=self.settings.retries,
            status=self.settings.retries, backoff_factor=self.settings.backoff, backoff_max=params.BACKOFF_MAX,
            status_forcelist=params.RETRY_STATUS, allowed_methods=frozenset({"GET", "HEAD", "POST"}),
            respect_retry_after_header=True, raise_on_status=False, **extra,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        self.session.headers.update(headers or {})
        self.limiter = RateLimiter(self.settings.rate)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout, self.settings.read_timeout)

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request (after the rate limit); connection failures become :class:`FetchError`."""
        self.limiter.wait(url)
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            raise FetchError(f"{url}: {_reason(err)}", resumable=True) from None

    def json(self, method: str, url: str, **kwargs) -> object:
        """The JSON body of a successful answer."""
        resp = self.request(method, url, **kwargs)
        check_status(resp, url)
        try:
            return resp.json()
        except ValueError:
            raise FetchError(f"{url}: answer is not JSON ({resp.headers.get('Content-Type', 'no type')})") from None

    def size(self, url: str) -> int | None:
        """Content-Length from a HEAD request (None when the server does not say)."""
        resp = self.request("HEAD", url, allow_redirects=True)
        if resp.status_code >= 400:
            return None
        length = resp.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None

    def close(self) -> None:
        self.session.close()


def _reason(err: BaseException) -> str:
    text = str(err)
    if "Max retries exceeded" in text:
        cause = text.split("(Caused by ", 1)[-1].rstrip(")")
        return f"gave up after retries ({cause[:160]})"
    return text[:200]


def check_status(resp: requests.Response, url: str) -> None:
    if resp.status_code >= 400:
        reason = resp.reason or ""
        resp.close()
        raise FetchError(f"{url}: HTTP {resp.status_code} {reason}".rstrip())


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a body are an HTML page (a login wall, quota or error page)."""
    start = head.lstrip()[:64].lower()
    return any(start.startswith(tag) for tag in HTML_STARTS)


def _content_type_is_html(resp: requests.Response) -> bool:
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


def _range_matches(resp: requests.Response, offset: int) -> bool:
    return resp.headers.get("Content-Range", "").replace("=", " ").startswith(f"bytes {offset}-")


def download(client: Client, url: str, part: Path, headers: dict[str, str] | None = None) -> int:
    """Stream ``url`` into ``part`` (resuming what ``part`` already holds); return its size.

    Raises :class:`FetchError` for an answer >= 400 (after Retry's attempts), an HTML or empty body,
    a body shorter than its Content-Length after ``resumes`` restarts, or a connection that cannot be
    made. ``part`` is left in place for a later resume; the caller checks and renames it.
    """
    resumes = 0
    while True:
        offset = part.stat().st_size if part.exists() else 0
        extra = dict(headers or {})
        if offset:
            extra["Range"] = f"bytes={offset}-"
        resp = client.request("GET", url, stream=True, headers=extra)
        if resp.status_code == 416 and offset:  # the partial file is longer than the resource: start over
            resp.close()
            part.unlink()
            continue
        check_status(resp, url)
        append = bool(offset) and resp.status_code == 206 and _range_matches(resp, offset)
        if not append:
            offset = 0
        try:
            _stream(resp, part, append=append, url=url, html_type=_content_type_is_html(resp))
        except (urllib3.exceptions.HTTPError, requests.RequestException) as err:
            resumes += 1
            if resumes > client.settings.resumes:
                raise FetchError(f"{url}: connection dropped {resumes} times mid-body ({_reason(err)})",
                                 resumable=True) from None
            time.sleep(min(client.settings.backoff * 2 ** (resumes - 1), params.BACKOFF_MAX))
            continue
        finally:
            resp.close()
        size = part.stat().st_size
        if size == 0:
            raise FetchError(f"{url}: empty body where a data file was expected")
        return size


def _stream(resp: requests.Response, part: Path, *, append: bool, url: str, html_type: bool = False) -> None:
    """Write the raw body to ``part``; the first bytes of a fresh body are checked for HTML.

    A body is HTML when it opens like a page (``<!doctype html``, ``<html``...), or when the server
    calls it ``text/html`` and it opens with a tag (a CSV or text file mislabelled ``text/html`` by a CGI
    script still arrives).
    """
    expected = resp.headers.get("Content-Length")
    received = 0
    with open(part, "ab" if append else "wb") as fh:
        first = not append
        for chunk in resp.raw.stream(params.CHUNK, decode_content=False):
            if first and chunk:
                first = False
                if looks_like_html(chunk) or (html_type and chunk.lstrip().startswith(b"<")):
                    fh.close()
                    part.unlink()
                    raise FetchError(f"{url}: the body is an HTML page, not the data file; a login, quota or "
                                     "error page?")
            fh.write(chunk)
            received += len(chunk)
    if expected and expected.isdigit() and received < int(expected):
        raise urllib3.exceptions.ProtocolError(f"body ended after {received} of {expected} bytes")
