"""Loading labelled corpora: the 20 newsgroups (through scikit-learn), a folder, or a CSV."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError

NEWSGROUPS = "20newsgroups"
DEFAULT_CATEGORIES = (
    "soc.religion.christian",
    "talk.religion.misc",
    "comp.sys.mac.hardware",
    "sci.crypt",
)
ALL_CATEGORIES = (
    "alt.atheism", "comp.graphics", "comp.os.ms-windows.misc", "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware", "comp.windows.x", "misc.forsale", "rec.autos", "rec.motorcycles",
    "rec.sport.baseball", "rec.sport.hockey", "sci.crypt", "sci.electronics", "sci.med",
    "sci.space", "soc.religion.christian", "talk.politics.guns", "talk.politics.mideast",
    "talk.politics.misc", "talk.religion.misc",
)  # fmt: skip
REMOVABLE_PARTS = ("headers", "footers", "quotes")
#: scikit-learn's cache of the corpus in its data folder, what ``fetch_20newsgroups`` reads
CACHE_FILE = "20news-bydate_py3.pkz"


class DataNotFoundError(NewsapiError):
    """The corpus is neither cached locally nor downloadable."""


class DatasetError(NewsapiError, ValueError):
    """A dataset parameter or a user corpus is unusable."""


@dataclass(frozen=True)
class Corpus:
    """A labelled corpus split into train and test parts; labels index ``target_names``."""

    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    target_names: list[str]
    description: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        """Documents per class in each split (what a reviewer may see; never the texts)."""
        out: dict[str, dict[str, int]] = {}
        for split, labels in (("train", self.train_labels), ("test", self.test_labels)):
            out[split] = {name: 0 for name in self.target_names}
            for label in labels:
                out[split][self.target_names[label]] += 1
        return out


def resolve_data_home(data_home: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder scikit-learn should read: explicit, then NEWSAPI_DATA_HOME, then its own."""
    value = data_home or os.environ.get("NEWSAPI_DATA_HOME") or os.environ.get("SCIKIT_LEARN_DATA")
    return Path(value).expanduser() if value else None


def newsgroups_folder(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds (or will hold) :data:`CACHE_FILE`: :func:`resolve_data_home`,
    else scikit-learn's default, ``~/scikit_learn_data``."""
    return resolve_data_home(data_home) or Path("~/scikit_learn_data").expanduser()


def ensure_newsgroups_cache(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The corpus cache file, downloaded first when it is missing.

    scikit-learn's fetcher creates its data folder and a ``20news_home`` scratch folder before
    it tries the network, and leaves both behind when the download fails; so a missing cache
    is fetched into a private temporary folder and only a complete file is moved into place.
    A failed download raises :class:`DataNotFoundError` and leaves nothing anywhere.
    """
    folder = newsgroups_folder(data_home)
    cache = folder / CACHE_FILE
    if cache.is_file():
        return cache
    from sklearn.datasets import fetch_20newsgroups

    with tempfile.TemporaryDirectory(prefix="newsapi-20news-") as scratch:
        try:
            fetch_20newsgroups(data_home=scratch, subset="train")
        except OSError as exc:  # URLError, socket errors and missing folders are all OSErrors
            raise DataNotFoundError(
                f"the 20 newsgroups corpus is not cached in {folder} (no {CACHE_FILE} there) "
                f"and could not be downloaded ({exc}). Set NEWSAPI_DATA_HOME (or "
                f"SCIKIT_LEARN_DATA) to the folder that holds {CACHE_FILE}."
            ) from exc
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{CACHE_FILE}.{os.getpid()}.tmp"
        shutil.copyfile(Path(scratch) / CACHE_FILE, partial)
        partial.replace(cache)
    return cache


def load_newsgroups(
    categories: Sequence[str] | None = DEFAULT_CATEGORIES,
    remove: Sequence[str] = (),
    data_home: str | os.PathLike[str] | None = None,
    random_state: int = 0,
) -> Corpus:
    """The 20 newsgroups "bydate" split for ``categories`` (None: all 20).

    Reads scikit-learn's cache in ``data_home`` (see :func:`newsgroups_folder`); with internet
    and no cache, it is downloaded there first (:func:`ensure_newsgroups_cache`). Offline with
    no cache, raises :class:`DataNotFoundError` naming the variables to set, and leaves no
    folder behind.
    """
    bad = sorted(set(remove) - set(REMOVABLE_PARTS))
    if bad:
        raise DatasetError(f"remove: unknown part(s) {bad}; choose from {list(REMOVABLE_PARTS)}")
    cats = list(categories) if categories is not None else None
    if cats is not None:
        unknown = sorted(set(cats) - set(ALL_CATEGORIES))
        if unknown or not cats:
            raise DatasetError(
                f"categories: unknown {unknown or 'empty list'}; choose from "
                f"{list(ALL_CATEGORIES)} or pass None for all 20"
            )
    # imported here, not at the top: the server imports this module for its constants only
    from sklearn.datasets import fetch_20newsgroups

    home = ensure_newsgroups_cache(data_home).parent
    parts = []
    for subset in ("train", "test"):
        try:
            bunch = fetch_20newsgroups(
                data_home=str(home),
                subset=subset,
                categories=cats,
                remove=tuple(remove),
                shuffle=True,
                random_state=random_state,
            )
        except OSError as exc:  # the cache vanished or became unreadable since the check
            raise DataNotFoundError(
                f"the 20 newsgroups corpus cache in {home} cannot be read ({exc}). Set "
                f"NEWSAPI_DATA_HOME (or SCIKIT_LEARN_DATA) to the folder that holds {CACHE_FILE}."
            ) from exc
        parts.append(bunch)
    train, test = parts
    return Corpus(
        train_texts=list(train.data),
        train_labels=[int(t) for t in train.target],
        test_texts=list(test.data),
        test_labels=[int(t) for t in test.target],
        target_names=list(train.target_names),
        description={
            "source": NEWSGROUPS,
            "split": "20news-bydate train/test",
            "categories": list(train.target_names),
            "remove": list(remove),
        },
    )


def load_folder(
    path: str | os.PathLike[str], test_size: float = 0.25, random_state: int = 0
) -> Corpus:
    """A corpus in scikit-learn's ``load_files`` layout: one sub-folder of text files per class."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"dataset: folder {root} does not exist")
    from sklearn.datasets import load_files

    bunch = load_files(str(root), encoding="utf-8", decode_error="replace", random_state=0)
    return _split(
        list(bunch.data),
        list(bunch.target),
        list(bunch.target_names),
        {"source": "folder", "path": str(root)},
        test_size,
        random_state,
    )


def load_csv(
    path: str | os.PathLike[str], test_size: float = 0.25, random_state: int = 0
) -> Corpus:
    """A corpus from a CSV file with ``text`` and ``label`` columns (label: the class name)."""
    file = Path(path)
    rows = _csv_rows(file, "dataset")
    names = sorted({label for _, label in rows})
    index = {name: i for i, name in enumerate(names)}
    return _split(
        [t for t, _ in rows],
        [index[label] for _, label in rows],
        names,
        {"source": "csv", "path": str(file)},
        test_size,
        random_state,
    )


def _csv_rows(file: Path, what: str) -> list[tuple[str, str]]:
    """The ``(text, label)`` rows of a CSV (rows missing either left out), or one error."""
    if not file.is_file():
        raise DatasetError(f"{what}: CSV file {file} does not exist")
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"text", "label"} - set(reader.fieldnames or ())
            if missing:
                raise DatasetError(
                    f"{what}: {file} has no {sorted(missing)} column(s); "
                    f"a CSV corpus needs 'text' and 'label' (found {reader.fieldnames})"
                )
            return [(row["text"], row["label"]) for row in reader if row["text"] and row["label"]]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{what}: {file} is not a UTF-8 CSV file ({exc})") from None


def with_extra_train(corpus: Corpus, path: str | os.PathLike[str]) -> Corpus:
    """``corpus`` with the ``text,label`` rows of the CSV ``path`` added to its training
    split, the test split unchanged (so that runs with and without compare like with like);
    labels must be among the corpus's categories (a new one could not be evaluated)."""
    file = Path(path)
    rows = _csv_rows(file, "extra_train")
    if not rows:
        raise DatasetError(f"extra_train: {file} holds no rows with both a text and a label")
    names = corpus.target_names
    unknown = sorted({label for _, label in rows} - set(names))
    if unknown:
        raise DatasetError(
            f"extra_train: {file} has labels that are not among the run's categories: "
            f"{', '.join(map(repr, unknown))} (the categories: {', '.join(names)})"
        )
    index = {name: i for i, name in enumerate(names)}
    extra = {"path": str(file), "rows": len(rows), "sha256": sha256(file.read_bytes()).hexdigest()}
    return Corpus(
        train_texts=[*corpus.train_texts, *(text for text, _ in rows)],
        train_labels=[*corpus.train_labels, *(index[label] for _, label in rows)],
        test_texts=corpus.test_texts,
        test_labels=corpus.test_labels,
        target_names=names,
        description={**corpus.description, "extra_train": extra},
    )


def _split(
    texts: list[str],
    labels: list[int],
    names: list[str],
    description: dict[str, Any],
    test_size: float,
    random_state: int,
) -> Corpus:
    if not texts:
        raise DatasetError(f"dataset: {description['path']} holds no documents")
    if len(names) < 2:
        raise DatasetError(
            f"dataset: {description['path']} has {len(names)} class(es) {names}; "
            "a classifier needs at least two"
        )
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=test_size, random_state=random_state, stratify=labels
    )
    return Corpus(
        train_texts=list(x_train),
        train_labels=[int(y) for y in y_train],
        test_texts=list(x_test),
        test_labels=[int(y) for y in y_test],
        target_names=names,
        description={**description, "categories": names, "test_size": test_size},
    )


def load_corpus(
    dataset: str = NEWSGROUPS,
    *,
    categories: Sequence[str] | None = DEFAULT_CATEGORIES,
    remove: Sequence[str] = (),
    data_home: str | os.PathLike[str] | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
) -> Corpus:
    """Dispatch on ``dataset``: "20newsgroups", a ``.csv`` file, or a ``load_files`` folder."""
    if dataset == NEWSGROUPS:
        return load_newsgroups(categories, remove, data_home, random_state)
    if str(dataset).lower().endswith(".csv"):
        return load_csv(dataset, test_size, random_state)
    if Path(dataset).is_dir():
        return load_folder(dataset, test_size, random_state)
    raise DatasetError(
        f"dataset: {dataset!r} is neither {NEWSGROUPS!r}, a .csv file, nor an existing folder"
    )
