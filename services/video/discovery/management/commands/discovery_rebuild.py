from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from discovery.services import search_index_rebuild, trending_recompute


class Command(BaseCommand):
    help = (
        "Rebuild hashtags and the search index from every video, creator and product card, "
        "then recompute trending and social proof (after a restore or an import)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        documents = search_index_rebuild()
        snapshot = trending_recompute()
        self.stdout.write(
            "Search documents: "
            + ", ".join(f"{count} {kind}s" for kind, count in documents.items())
            + f"; trending snapshot of {len(snapshot.video_ids)} videos."
        )
