"""MovieLens, loaded the same way online and offline, verified before it is used.

``load_movielens("100k")`` looks for the data in this order:

1. **The local cache** (``data/ml-100k/`` by default): used only if every file still has the
   SHA-256 recorded in the cache's ``MANIFEST.json`` when it was written.  A partial or
   corrupt cache is reported and rebuilt, never silently used.
2. **GroupLens** over HTTPS: the official zip, checked against the SHA-256 pinned below before
   it is renamed into place, then extracted safely (an archive with an absolute or ``..``
   member path is refused).
3. **PyPI, for 100K only**, when GroupLens cannot be reached: the ``recbole`` wheel ships the
   real MovieLens 100K in RecBole's "atomic" format.  We download that wheel without its
   dependencies (checked against its pinned SHA-256), read only the three dataset files,
   convert them back to GroupLens's file format and check the converted files against pinned
   SHA-256 sums before caching them.

Every write goes to a temporary file or folder first and is renamed into place, so an
interrupted download never leaves a half-written cache behind.

The frames returned (identical whichever source served them):

``ratings``: ``user_id`` int32, ``item_id`` int32, ``rating`` float32 (1-5), ``timestamp`` int64
(seconds since 1970-01-01 UTC); ``ratings.attrs["dataset"]`` is ``"ml-100k"`` or ``"ml-1m"``.

``movies``: ``item_id`` int32, ``title`` str as GroupLens writes it (``"Toy Story (1995)"``),
``release_year`` Int16 (the year in the title; missing for the one untitled movie),
``genres`` tuple of str (names from :data:`GENRES`).

``users``: ``user_id`` int32, ``age`` int16 (years for 100K; for 1M the lower bound of
GroupLens's age group), ``gender`` str (``"M"``/``"F"``), ``occupation`` str, ``zip_code`` str.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recutils.paths import atomic_folder
from recutils.paths import data_dir as default_data_dir

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
"""The 19 genre names in GroupLens's order (ML-1M uses the last 18)."""

OCCUPATIONS_1M: tuple[str, ...] = (
    "other/not specified", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)
"""ML-1M codes its occupations 0-20; these are the names from its README (code 0 is
"other" or not specified), as TFDS spells them."""

MANIFEST = "MANIFEST.json"


class DatasetError(RuntimeError):
    """The data could not be obtained or failed verification; the message says how to fix it."""


@dataclass(frozen=True)
class Archive:
    """A GroupLens archive: where it lives, its pinned SHA-256 and the files the loader reads."""

    url: str
    sha256: str
    size: int
    folder: str
    members: tuple[str, ...]


ARCHIVES: dict[str, Archive] = {
    # SHA-256 sums as pinned by tensorflow_datasets (url_checksums/movielens.txt).
    "100k": Archive(
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        size=4_924_029,
        folder="ml-100k",
        members=("u.data", "u.item", "u.user"),
    ),
    "1m": Archive(
        url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        size=5_917_549,
        folder="ml-1m",
        members=("ratings.dat", "movies.dat", "users.dat"),
    ),
}


@dataclass(frozen=True)
class PyPICopy:
    """A wheel on PyPI that ships MovieLens 100K, and the pinned sums of what we convert from it."""

    requirement: str
    wheel_sha256: str
    folder_in_wheel: str
    converted_sha256: dict[str, str]


PYPI_100K = PyPICopy(
    requirement="recbole==1.2.1",
    wheel_sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    folder_in_wheel="recbole/dataset_example/ml-100k/",
    converted_sha256={
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.item": "7698249c0dabca2a0600405079b8f79ea3543313e8c309d13e08b68af34fe12e",
        "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    },
)


@dataclass(frozen=True)
class MovieLens:
    """A loaded MovieLens dataset: three frames and where they came from."""

    ratings: pd.DataFrame
    movies: pd.DataFrame
    users: pd.DataFrame
    size: str
    source: str

    def genre_matrix(self) -> np.ndarray:
        """Multi-hot genres, shape ``(len(movies), len(GENRES))``, rows in ``movies`` order."""
        return genre_matrix(self.movies)

    def __repr__(self) -> str:
        return (
            f"MovieLens({self.size}: {len(self.ratings):,} ratings, "
            f"{self.ratings.user_id.nunique():,} users, {len(self.movies):,} movies; "
            f"source: {self.source})"
        )


def genre_matrix(movies: pd.DataFrame) -> np.ndarray:
    """Multi-hot float32 matrix of ``movies.genres`` over :data:`GENRES` (one row per movie)."""
    col = {g: j for j, g in enumerate(GENRES)}
    rows = np.repeat(np.arange(len(movies)), movies["genres"].map(len).to_numpy())
    cols = [col[g] for gs in movies["genres"] for g in gs]
    out = np.zeros((len(movies), len(GENRES)), dtype=np.float32)
    out[rows, cols] = 1.0
    return out


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def load_movielens(
    size: str = "100k",
    data_dir: str | os.PathLike | None = None,
    offline_fallback: bool = True,
    verbose: bool = True,
) -> MovieLens:
    """Load MovieLens ``size`` (``"100k"`` or ``"1m"``), fetching and caching it if needed.

    Args:
        size: ``"100k"`` (943 users, 1,682 movies, 100,000 ratings) or ``"1m"``.
        data_dir: cache folder; defaults to :func:`recutils.paths.data_dir`.
        offline_fallback: for 100K, use the copy shipped on PyPI when GroupLens is unreachable.
        verbose: print which source served the data.

    Raises:
        DatasetError: unknown size, a download whose checksum does not match, an unsafe archive,
            or no source reachable.  The message says what to do.
    """
    if size not in ARCHIVES:
        raise DatasetError(f"Unknown MovieLens size {size!r}; choose one of {sorted(ARCHIVES)}.")
    archive = ARCHIVES[size]
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    root.mkdir(parents=True, exist_ok=True)
    cache = root / archive.folder

    source = _read_valid_cache(cache, archive.members, verbose)
    if source is None:
        source = _fill_cache(size, archive, root, cache, offline_fallback, verbose)
    elif verbose:
        print(f"MovieLens {size}: loaded from the cache {cache} (originally from {source}).")
    frames = _parse(size, cache)
    return MovieLens(*frames, size=size, source=source)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_valid_cache(cache: Path, members: Iterable[str], verbose: bool) -> str | None:
    """The cache's source if every file matches its manifest, else ``None`` (with a note why)."""
    if not cache.exists():
        return None
    problem = None
    try:
        manifest = json.loads((cache / MANIFEST).read_text())
        for name in members:
            if sha256_of(cache / name) != manifest["files"][name]:
                problem = f"{name} does not match its checksum"
                break
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = f"incomplete ({exc.__class__.__name__}: {exc})"
    if problem is None:
        return str(manifest["source"])
    if verbose:
        print(f"The cache {cache} is {problem}: fetching the data again.")
    return None


def _install_cache(cache: Path, files: dict[str, bytes], source: str) -> None:
    """Write ``files`` and their manifest to a temporary folder, then rename it to ``cache``."""
    with atomic_folder(cache) as tmp:
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        manifest = {
            "source": source,
            "files": {name: hashlib.sha256(c).hexdigest() for name, c in files.items()},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))


def _fill_cache(
    size: str, archive: Archive, root: Path, cache: Path, offline_fallback: bool, verbose: bool
) -> str:
    """Fetch the data from GroupLens (or, for 100K, PyPI) into ``cache``; return its source."""
    zip_path = root / f"{archive.folder}.zip"
    if zip_path.exists() and sha256_of(zip_path) != archive.sha256:
        if verbose:
            print(f"{zip_path} does not match its pinned checksum: downloading it again.")
        zip_path.unlink()
    try:
        if not zip_path.exists():
            if verbose:
                print(f"Downloading {archive.url} ({archive.size / 1e6:.1f} MB) ...")
            download(archive.url, zip_path, archive.sha256)
    except DownloadError as exc:
        if not (offline_fallback and size == "100k"):
            raise DatasetError(
                f"Could not download MovieLens {size}: {exc}\n"
                f"Fix: check your connection, or download {archive.url} by hand and save it as "
                f"{zip_path}; the loader verifies and uses it."
            ) from exc
        if verbose:
            print(f"GroupLens is unreachable ({exc}); using the copy of MovieLens 100K on PyPI.")
        files, source = _fetch_pypi_copy(PYPI_100K)
        _install_cache(cache, files, source)
        if verbose:
            print(f"MovieLens {size}: loaded from {source}.")
        return source
    files = extract_members(zip_path, archive.folder, archive.members)
    source = f"GroupLens ({archive.url}, SHA-256 verified)"
    _install_cache(cache, files, source)
    if verbose:
        print(f"MovieLens {size}: loaded from {source}.")
    return source


# --------------------------------------------------------------------------------------------
# Downloads and archives
# --------------------------------------------------------------------------------------------


class DownloadError(DatasetError):
    """The server could not be reached or the transfer broke off."""


class ChecksumError(DatasetError):
    """A file's SHA-256 is not the pinned one."""


class UnsafeArchiveError(DatasetError):
    """An archive holds a member whose path would land outside the target folder."""


def download(url: str, dest: str | os.PathLike, sha256: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest``, atomically, only if its SHA-256 equals ``sha256``.

    The body goes to a temporary file beside ``dest``; it is renamed to ``dest`` only once the
    checksum matches, so ``dest`` is either absent or complete and verified.

    Raises:
        DownloadError: the server is unreachable, answers with an error or the transfer breaks.
        ChecksumError: the file arrived but is not the expected one (nothing is kept).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}-", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                expected = resp.headers.get("Content-Length")
                received = 0
                for block in iter(lambda: resp.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
                    received += len(block)
        except (OSError, HTTPException) as exc:  # URLError, timeouts and IncompleteRead
            raise DownloadError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        if expected is not None and received != int(expected):
            raise DownloadError(
                f"{url}: the transfer broke off after {received:,} of {int(expected):,} bytes.")
        if h.hexdigest() != sha256:
            raise ChecksumError(
                f"{url} arrived with SHA-256 {h.hexdigest()}, expected {sha256}. The file is "
                "corrupt or not the one this course was written for; nothing was kept. "
                "Try again later; if it persists, report it to the course maintainers."
            )
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


def _check_member_paths(names: Iterable[str], where: str) -> None:
    for name in names:
        p = PurePosixPath(name.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
            raise UnsafeArchiveError(
                f"{where} contains the member {name!r}, whose path points outside the "
                "extraction folder; refusing to extract anything from it. Delete the file and "
                "download it again from its official source."
            )


def extract_members(zip_path: str | os.PathLike, folder: str, members: Iterable[str]) -> dict[str, bytes]:
    """Read ``folder/member`` for each member of a zip, after checking every path in it is safe.

    Returns the members' bytes by name; nothing is written to disk here.

    Raises:
        UnsafeArchiveError: any member has an absolute path or a ``..`` component.
        DatasetError: the zip is unreadable or lacks a member.
    """
    try:
        with zipfile.ZipFile(zip_path) as zf:
            _check_member_paths(zf.namelist(), str(zip_path))
            return {m: zf.read(f"{folder}/{m}") for m in members}
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DatasetError(
            f"{zip_path} is not a complete MovieLens archive ({exc}). Delete it and load again."
        ) from exc


# --------------------------------------------------------------------------------------------
# The offline copy on PyPI
# --------------------------------------------------------------------------------------------


def _fetch_pypi_copy(copy: PyPICopy) -> tuple[dict[str, bytes], str]:
    """Download the wheel with pip, verify it, convert its dataset to GroupLens files, verify."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "--dest", tmp, copy.requirement]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise DatasetError(
                "Neither GroupLens nor PyPI could be reached, so MovieLens 100K could not be "
                f"fetched.\npip said: {proc.stderr.strip()[-500:]}\n"
                "Fix: connect to the internet once (the data is cached afterwards), or copy "
                "ml-100k.zip from GroupLens into the data folder."
            )
        wheel = wheels[0]
        if sha256_of(wheel) != copy.wheel_sha256:
            raise ChecksumError(f"{wheel.name} does not have the pinned SHA-256 {copy.wheel_sha256}.")
        names = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")
        with zipfile.ZipFile(wheel) as zf:
            _check_member_paths(zf.namelist(), wheel.name)
            raw = {n: zf.read(copy.folder_in_wheel + n).decode("utf-8") for n in names}
    files = convert_recbole_100k(raw["ml-100k.inter"], raw["ml-100k.item"], raw["ml-100k.user"])
    for name, content in files.items():
        got = hashlib.sha256(content).hexdigest()
        if got != copy.converted_sha256[name]:
            raise ChecksumError(
                f"The {name} converted from {wheel.name} has SHA-256 {got}, expected "
                f"{copy.converted_sha256[name]}: the wheel's dataset changed. Report this."
            )
    return files, f"PyPI ({wheel.name}, converted to GroupLens format, SHA-256 verified)"


def _atomic_table(text: str) -> list[list[str]]:
    """Rows of a RecBole atomic file (tab-separated, one header line)."""
    return [line.split("\t") for line in text.splitlines()[1:] if line]


def convert_recbole_100k(inter: str, item: str, user: str) -> dict[str, bytes]:
    """Turn RecBole's atomic ML-100K files back into GroupLens's ``u.data``, ``u.item``, ``u.user``.

    RecBole split each GroupLens title ``"Toy Story (1995)"`` into ``movie_title`` and
    ``release_year`` and kept the genres as names; the ratings and users are unchanged. The
    ``u.item`` written here has GroupLens's 24 fields with the release date, video release
    date and IMDb URL left empty: RecBole does not carry them and the course does not use them.
    """
    data = "".join(f"{u}\t{i}\t{int(float(r))}\t{int(float(t))}\n" for u, i, r, t in _atomic_table(inter))
    lines = []
    for item_id, title, year, classes in _atomic_table(item):
        # RecBole wrote the one untitled movie (item 267) as "unkonwn".
        full = "unknown" if title == "unkonwn" else f"{title} ({year})"
        flags = "|".join("1" if g in classes.split(" ") else "0" for g in GENRES)
        lines.append(f"{item_id}|{full}||||{flags}\n")
    users = "".join("|".join(row) + "\n" for row in _atomic_table(user))
    return {
        "u.data": data.encode("ascii"),
        "u.item": "".join(lines).encode("latin-1"),
        "u.user": users.encode("ascii"),
    }


# --------------------------------------------------------------------------------------------
# Parsing GroupLens files into frames
# --------------------------------------------------------------------------------------------


def _movies_frame(item_id: pd.Series, title: pd.Series, genres: pd.Series) -> pd.DataFrame:
    title = title.astype(str).str.strip()
    year = pd.to_numeric(title.str.extract(r".*\((\d{4})\)", expand=False), errors="coerce")
    return pd.DataFrame({
        "item_id": item_id.astype("int32").to_numpy(),
        "title": title.to_numpy(),
        "release_year": year.astype("Int16").array,
        "genres": genres.to_numpy(),
    })


def _parse(size: str, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if size == "100k":
        ratings = pd.read_csv(folder / "u.data", sep="\t", header=None,
                              names=["user_id", "item_id", "rating", "timestamp"])
        item = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1",
                           dtype={1: str})
        flags = item.iloc[:, 5:5 + len(GENRES)].to_numpy(dtype=bool)
        genres = pd.Series([tuple(np.asarray(GENRES)[row]) for row in flags])
        movies = _movies_frame(item[0], item[1], genres)
        users = pd.read_csv(folder / "u.user", sep="|", header=None, dtype={4: str},
                            names=["user_id", "age", "gender", "occupation", "zip_code"])
    else:
        ratings = pd.read_csv(folder / "ratings.dat", sep="::", engine="python", header=None,
                              names=["user_id", "item_id", "rating", "timestamp"])
        item = pd.read_csv(folder / "movies.dat", sep="::", engine="python", header=None,
                           encoding="latin-1", names=["item_id", "title", "genres"])
        genres = item["genres"].str.split("|").map(tuple)
        movies = _movies_frame(item["item_id"], item["title"], genres)
        users = pd.read_csv(folder / "users.dat", sep="::", engine="python", header=None,
                            dtype={4: str},
                            names=["user_id", "gender", "age", "occupation", "zip_code"])
        users["occupation"] = np.asarray(OCCUPATIONS_1M)[users["occupation"].to_numpy()]
        users = users[["user_id", "age", "gender", "occupation", "zip_code"]]
    ratings = ratings.astype({"user_id": "int32", "item_id": "int32", "rating": "float32",
                              "timestamp": "int64"})
    users = users.astype({"user_id": "int32", "age": "int16"})
    for col in ("gender", "occupation", "zip_code"):
        users[col] = users[col].astype(str)
    ratings.attrs["dataset"] = f"ml-{size}"  # recorded by the splits and the results file
    return ratings, movies, users


# --------------------------------------------------------------------------------------------
# TensorFlow view with tensorflow_datasets' features
# --------------------------------------------------------------------------------------------

AGE_BUCKETS = (1, 18, 25, 35, 45, 50, 56)
"""Lower bounds of the age groups that ``bucketized_user_age`` reports (as in ML-1M and TFDS)."""

TFDS_GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "Unknown", "War", "Western", "(no genres listed)",
)
"""The 21 class names of TFDS's ``movie_genres`` (shared by every MovieLens version in TFDS, so
"IMAX" and "(no genres listed)", from the newer versions, never occur in 100K or 1M)."""

TFDS_OCCUPATIONS: tuple[str, ...] = (
    "academic/educator", "artist", "clerical/admin", "customer service", "doctor/health care",
    "entertainment", "executive/managerial", "farmer", "homemaker", "lawyer", "librarian",
    "other/not specified", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "student", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)
"""The 22 class names of TFDS's ``user_occupation_label``: 100K's and 1M's occupations merged."""

_TFDS_SPELLING = {"unknown": "Unknown", "Children's": "Children"}
_TFDS_GENRE = {g: TFDS_GENRES.index(_TFDS_SPELLING.get(g, g)) for g in GENRES}
_TFDS_OCCUPATION_100K = {
    "administrator": "clerical/admin", "doctor": "doctor/health care", "educator": "academic/educator",
    "engineer": "technician/engineer", "executive": "executive/managerial",
    "healthcare": "doctor/health care", "marketing": "sales/marketing", "none": "other/not specified",
    "other": "other/not specified", "salesman": "sales/marketing", "technician": "technician/engineer",
}
"""100K's occupations whose TFDS label differs from their text (the others keep their name)."""


def tfds_occupation_label(occupation: str) -> int:
    """The index into :data:`TFDS_OCCUPATIONS` that TFDS gives a 100K or 1M occupation text.

    Raises:
        KeyError: an occupation that neither 100K nor 1M has.
    """
    label = _TFDS_OCCUPATION_100K.get(occupation, occupation)
    label = "student" if label in ("K-12 student", "college/grad student") else label
    if label not in TFDS_OCCUPATIONS:
        raise KeyError(f"Unknown occupation {occupation!r}: TFDS's labels are {TFDS_OCCUPATIONS}.")
    return TFDS_OCCUPATIONS.index(label)


def tfds_features(ratings: pd.DataFrame, data: MovieLens) -> dict[str, np.ndarray | list]:
    """Columns of ``ratings`` joined with movies and users, as TFDS's ``movielens/100k-ratings``
    (or ``1m-ratings``) builds them: the same names, dtypes and values, strings as bytes.

    ``movie_genres`` is a ragged list of indices into :data:`TFDS_GENRES` and
    ``user_occupation_label`` an index into :data:`TFDS_OCCUPATIONS`, TFDS's class labels;
    ``raw_user_age`` exists for 100K only (1M records age groups), as in TFDS.
    """
    if ratings.empty:
        raise ValueError("The ratings frame is empty: there is nothing to turn into a dataset.")
    m = data.movies.set_index("item_id").loc[ratings["item_id"]]
    u = data.users.set_index("user_id").loc[ratings["user_id"]]
    age = u["age"].to_numpy()
    bucket = np.asarray(AGE_BUCKETS)[np.searchsorted(AGE_BUCKETS, age, side="right") - 1]
    labels = {o: tfds_occupation_label(o) for o in data.users["occupation"].unique()}
    features = {
        "user_id": ratings["user_id"].astype(str).str.encode("utf-8").to_numpy(),
        "movie_id": ratings["item_id"].astype(str).str.encode("utf-8").to_numpy(),
        "movie_title": m["title"].str.encode("utf-8").to_numpy(),
        "movie_genres": [[_TFDS_GENRE[g] for g in gs] for gs in m["genres"]],
        "user_rating": ratings["rating"].to_numpy(np.float32),
        "timestamp": ratings["timestamp"].to_numpy(np.int64),
        "user_gender": (u["gender"].to_numpy() == "M"),
        "bucketized_user_age": bucket.astype(np.float32),
        "user_occupation_text": u["occupation"].str.encode("utf-8").to_numpy(),
        "user_occupation_label": u["occupation"].map(labels).to_numpy(np.int64),
        "user_zip_code": u["zip_code"].str.encode("utf-8").to_numpy(),
    }
    if data.size == "100k":
        features["raw_user_age"] = age.astype(np.float32)
    return features


def to_tf_dataset(ratings: pd.DataFrame, data: MovieLens) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of one dict per rating, with the features of TFDS's
    ``movielens/100k-ratings`` (``1m-ratings`` for 1M data), so code from the TensorFlow
    Recommenders tutorials runs unchanged, on any part of the course's split.

    Names, dtypes, shapes and values are TFDS's (a test compares them with the TFDS builder's
    features).  One difference, on purpose: ``movie_genres`` has a ``RaggedTensorSpec`` (of ragged
    rank 0) where TFDS has a ``TensorSpec`` of shape ``(None,)``.  Each element is the same dense
    vector of genre labels, but ``.batch()`` works on ours, giving a ``tf.RaggedTensor``, where
    TFDS's dataset needs ``.ragged_batch()``.

    Example::

        ds = to_tf_dataset(split.train, data).map(lambda x: {
            "user_id": x["user_id"], "movie_title": x["movie_title"]})
    """
    import tensorflow as tf

    cols = tfds_features(ratings, data)
    cols["movie_genres"] = _ragged(cols["movie_genres"])
    return tf.data.Dataset.from_tensor_slices(cols)


def _ragged(lists: list[list[int]]) -> tf.RaggedTensor:
    """Lists of ints as a ``tf.RaggedTensor`` of one row per list, built from flat arrays
    (``tf.ragged.constant`` walks the Python lists: 50 times slower on 100,000 rows)."""
    import tensorflow as tf

    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum()))
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def to_tf_movies(data: MovieLens) -> tf.data.Dataset:
    """The catalogue as TFDS's ``movielens/100k-movies``: ``movie_id``, ``movie_title``,
    ``movie_genres`` (TFDS's genre labels; ragged, as in :func:`to_tf_dataset`)."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices({
        "movie_id": data.movies["item_id"].astype(str).str.encode("utf-8").to_numpy(),
        "movie_title": data.movies["title"].str.encode("utf-8").to_numpy(),
        "movie_genres": _ragged([[_TFDS_GENRE[g] for g in gs] for gs in data.movies["genres"]]),
    })


def ratings_from_tf(dataset: tf.data.Dataset) -> pd.DataFrame:
    """The ratings of a TFDS-style dataset (``tfds.load("movielens/100k-ratings")`` or
    :func:`to_tf_dataset`) as a frame in the course's schema: ``user_id``, ``item_id``,
    ``rating``, ``timestamp``."""
    columns = {"user_id": [], "item_id": [], "rating": [], "timestamp": []}
    keys = {"user_id": "user_id", "item_id": "movie_id", "rating": "user_rating", "timestamp": "timestamp"}
    selected = dataset.map(lambda x: {k: x[v] for k, v in keys.items()}).batch(1 << 16)
    for batch in selected.as_numpy_iterator():
        for name, values in batch.items():
            columns[name].append(values)
    frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    return frame.astype({"user_id": "int32", "item_id": "int32", "rating": "float32", "timestamp": "int64"})


def ratings_fingerprint(ratings: pd.DataFrame) -> str:
    """SHA-256 of the rows ``user_id,item_id,rating,timestamp`` written as CSV (ratings as
    ``%g``) after sorting them by all four: equal for the same ratings in any order."""
    rows = ratings[["user_id", "item_id", "rating", "timestamp"]].astype(
        {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"})
    rows = rows.sort_values(list(rows.columns), kind="stable")
    return hashlib.sha256(rows.to_csv(index=False, header=False, float_format="%g").encode()).hexdigest()


def compare_ratings(sources: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Counts and :func:`ratings_fingerprint` of each frame (one row per source): equal
    fingerprints mean the very same ratings."""
    return pd.DataFrame({name: {"ratings": len(f), "users": f["user_id"].nunique(),
                                "movies": f["item_id"].nunique(), "sha256": ratings_fingerprint(f)}
                         for name, f in sources.items()}).T
