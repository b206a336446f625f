"""Load the sample question bank (exam/fixtures/sample_bank.json), marked as a sample.
Idempotent: questions are matched by code; an unchanged question is left as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from exam.testing.services.bank import bank_import, parse_json

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_bank.json"


class Command(BaseCommand):
    help = "Load the sample question bank (marked as a sample)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="only when the bank has no questions")
        parser.add_argument(
            "--unless-own",
            action="store_true",
            help="only when the bank has no questions of its own (none, or the sample's: a newer sample is added)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from exam.models import Question

        if options["if_empty"] and Question.objects.exists():
            self.stdout.write("The bank is not empty: sample not loaded.")
            return
        if options["unless_own"] and Question.objects.filter(is_sample=False).exists():
            self.stdout.write("The bank has questions of its own: sample not loaded.")
            return
        rows, topics, blueprint = parse_json(SAMPLE.read_bytes())
        report = bank_import(rows=rows, topics=topics, blueprint=blueprint, by=None, sample=True)
        if not report.ok:
            problems = "; ".join(f"row {row} ({code}): {', '.join(p)}" for row, code, p in report.errors[:10])
            raise CommandError(f"The sample bank is invalid: {problems}")
        self.stdout.write(self.style.SUCCESS(f"Sample bank: {report.created} new, {report.updated} updated questions."))
