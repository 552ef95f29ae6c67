"""The search index: documents, hashtags and typo terms, kept current by the services that
change videos, creators and product cards (ADR 11). Each function rebuilds its rows from
the source tables, so calling one twice, or `search_index_rebuild` at any time, is safe."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import connection, transaction

from clipcart_shared.pages import pages_version_bump
from creators.models import Creator
from discovery.models import SearchDocument, SearchTerm, VideoHashtag
from discovery.text import hashtags_parse, lexeme_quoted, trigrams, words
from productcards.models import ProductCard
from videos.models import ProductTag, Video

# Longer runs of letters are no words anyone searches for (and PostgreSQL refuses
# lexemes over 2 KB).
MAX_INDEXED_WORD = 100


def _document(*parts: tuple[str, Iterable[str]]) -> str:
    """A tsvector literal: the words of each (weight, words) part at increasing positions.
    Built here so that the words are exactly those `discovery.text.words` gives a query."""
    entries = []
    position = 0
    for weight, part in parts:
        for word in part:
            if len(word) > MAX_INDEXED_WORD:
                continue
            position = min(position + 1, 16383)  # PostgreSQL's highest position
            entries.append(f"{lexeme_quoted(word)}:{position}{weight}")
    return " ".join(entries)


def _handle_words(handle: str) -> list[str]:
    """A handle as a whole word (`clara.beauty`) and as its parts (`clara`, `beauty`)."""
    return [handle, *words(handle)]


_DOCUMENT_UPSERT = f"""
INSERT INTO {SearchDocument._meta.db_table} (kind, object_id, document, updated_at)
SELECT kind, object_id, document::tsvector, now()
FROM unnest(%(kinds)s::text[], %(ids)s::uuid[], %(documents)s::text[])
    AS batch(kind, object_id, document)
ON CONFLICT (kind, object_id) DO UPDATE SET
    document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
WHERE {SearchDocument._meta.db_table}.document <> EXCLUDED.document
RETURNING object_id
"""


def _documents_write(kind: SearchDocument.Kind, documents: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    """Store the documents; returns the ids of those that are new or changed."""
    if not documents:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _DOCUMENT_UPSERT,
            {
                "kinds": [kind.value] * len(documents),
                "ids": list(documents),
                "documents": list(documents.values()),
            },
        )
        return [row[0] for row in cursor.fetchall()]


def _terms_add(terms: Iterable[str]) -> None:
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=term, trigrams=trigrams(term)) for term in set(terms)],
        ignore_conflicts=True,
    )


@transaction.atomic
def video_search_refresh(*, video_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these videos' captions, creators' handles and tagged products' titles:
    their hashtags and search documents follow. The videos' rows are locked first (in id
    order), so two refreshes of one video (a caption edit and a product's new title
    arriving at once) run one after the other, each reading what the other wrote."""
    videos = list(
        Video.objects.select_for_update(of=("self",))
        .filter(id__in=list(video_ids))
        .select_related("creator")
        .only("id", "caption", "creator__handle")
        .order_by("id")
    )
    if not videos:
        return
    pages_version_bump()  # captions, hashtags, handles, titles: the stored pages show them
    titles: dict[uuid.UUID, list[str]] = {video.id: [] for video in videos}
    tagged = ProductTag.objects.filter(video__in=videos).values_list("video_id", "product_id")
    cards = dict(
        ProductCard.objects.filter(product_id__in={product for _, product in tagged}).values_list(
            "product_id", "title"
        )
    )
    for video_id, product_id in tagged:
        if product_id in cards:
            titles[video_id].append(cards[product_id])
    hashtags = {video.id: hashtags_parse(video.caption) for video in videos}
    VideoHashtag.objects.filter(video__in=videos).delete()
    VideoHashtag.objects.bulk_create(
        [
            VideoHashtag(video_id=video_id, tag=tag)
            for video_id, tags in hashtags.items()
            for tag in tags
        ]
    )
    _terms_add(tag for tags in hashtags.values() for tag in tags)
    _documents_write(
        SearchDocument.Kind.VIDEO,
        {
            video.id: _document(
                ("A", [*_handle_words(video.creator.handle), *hashtags[video.id]]),
                ("B", words(" ".join(titles[video.id]))),
                ("C", words(video.caption)),
            )
            for video in videos
        },
    )


def _product_documents_write(product_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The products' own documents (title, merchant); returns those that changed."""
    cards = ProductCard.objects.filter(product_id__in=list(product_ids))
    return _documents_write(
        SearchDocument.Kind.PRODUCT,
        {
            card.product_id: _document(("A", words(card.title)), ("C", words(card.merchant_name)))
            for card in cards
        },
    )


def _creator_documents_write(creator_ids: Iterable[uuid.UUID]) -> list[Creator]:
    """The creators' own documents (handle, name) and their handles as typo terms;
    returns the creators."""
    creators = list(Creator.objects.filter(id__in=list(creator_ids)))
    _terms_add(creator.handle for creator in creators)
    _documents_write(
        SearchDocument.Kind.CREATOR,
        {
            creator.id: _document(
                ("A", _handle_words(creator.handle)), ("B", words(creator.display_name))
            )
            for creator in creators
        },
    )
    return creators


def product_search_refresh(*, product_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these product cards' titles: their own documents follow, and where one
    changed, those of the videos tagging the product (a stock change changes nothing)."""
    changed = _product_documents_write(product_ids)
    video_search_refresh(
        video_ids=ProductTag.objects.filter(product_id__in=changed)
        .values_list("video_id", flat=True)
        .distinct()
    )


def creator_search_refresh(*, creator_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these creators' handles and names: their documents, and those of their
    videos (which carry the handle), follow."""
    creators = _creator_documents_write(creator_ids)
    video_search_refresh(
        video_ids=Video.objects.filter(creator__in=creators).values_list("id", flat=True)
    )


def search_index_rebuild() -> dict[str, int]:
    """Every document, hashtag and term from scratch (after a restore, or to take in rows
    written without the services). Returns how many documents of each kind."""
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        SearchTerm.objects.all().delete()
        # Products and creators first, then each video once (it carries both).
        _product_documents_write(ProductCard.objects.values_list("product_id", flat=True))
        _creator_documents_write(Creator.objects.values_list("id", flat=True))
        video_search_refresh(video_ids=Video.objects.values_list("id", flat=True))
    return {
        kind: SearchDocument.objects.filter(kind=kind).count()
        for kind in SearchDocument.Kind.values
    }
