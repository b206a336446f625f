"""Generate a registry of synthetic experts with realistic Russian names, for benchmarks and demos.

    manage.py registry_generate --count 1000000 [--seed 1] [--prefix G]

On PostgreSQL the rows are loaded with COPY (a million in well under a minute); elsewhere with
bulk inserts. Numbers are "<prefix><year>-<seq>", so they never collide with issued certificates."""

from __future__ import annotations

import io
import random
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from core.canonical import canonical_json
from registry import signing
from registry.models import AnnulmentReason, AreaOfActivity, Certificate, Surname
from registry.selectors import certificate_record, search_key

SURNAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков "
    "Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин "
    "Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов "
    "Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв Белов "
    "Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов "
    "Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов "
    "Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков "
    "Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов "
    "Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев "
    "Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов "
    "Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин "
    "Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин "
    "Митрофанов Воронов Аксёнов Софронов Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев "
    "Рыбаков Сафонов Плотников Дёмин Хохлов Жданов Носов Зуев Третьяков Бычков Мухин Лаптев"
).split()
MALE_NAMES = (
    "Александр Алексей Андрей Антон Артём Борис Вадим Валентин Валерий Василий Виктор Виталий Владимир "
    "Владислав Вячеслав Геннадий Георгий Григорий Даниил Денис Дмитрий Евгений Егор Иван Игорь Илья "
    "Кирилл Константин Леонид Максим Михаил Никита Николай Олег Павел Пётр Роман Руслан Сергей Станислав "
    "Степан Тимофей Фёдор Юрий Ярослав"
).split()
FEMALE_NAMES = (
    "Александра Алина Алла Анастасия Анна Антонина Валентина Валерия Вера Вероника Галина Дарья Евгения "
    "Екатерина Елена Елизавета Жанна Зинаида Зоя Инна Ирина Кира Ксения Лариса Лидия Любовь Людмила "
    "Маргарита Марина Мария Надежда Наталья Нина Оксана Олеся Ольга Полина Светлана София Тамара Татьяна "
    "Ульяна Юлия Яна"
).split()
FATHERS = (
    "Александр Алексей Анатолий Андрей Борис Валерий Василий Виктор Владимир Вячеслав Геннадий Григорий "
    "Дмитрий Евгений Иван Игорь Константин Леонид Михаил Николай Олег Павел Пётр Сергей Степан Юрий"
).split()


def _patronymic(father: str, female: bool) -> str:
    irregular = {"Пётр": "Петров", "Павел": "Павлов", "Лев": "Львов"}
    if father in irregular:
        stem = irregular[father]
        return stem + ("на" if female else "ич")
    if father.endswith("ий"):
        stem = father[:-2] + "ьев"
    elif father.endswith("й"):
        stem = father[:-1] + "ев"
    elif father.endswith("а"):
        stem = father[:-1] + ("ич" if not female else "ична")
        return stem
    else:
        stem = father + "ов"
    return stem + ("на" if female else "ич")


def _female_surname(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    return surname


def person(rng: random.Random) -> tuple[str, str, str]:
    female = rng.random() < 0.45
    surname = rng.choice(SURNAMES)
    if female:
        return _female_surname(surname), rng.choice(FEMALE_NAMES), _patronymic(rng.choice(FATHERS), True)
    return surname, rng.choice(MALE_NAMES), _patronymic(rng.choice(FATHERS), False)


class Command(BaseCommand):
    help = "Generate a registry of synthetic experts (realistic Russian names)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--count", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--prefix", default="G")
        parser.add_argument("--batch", type=int, default=50_000)

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if count < 1:
            raise CommandError("--count must be positive")
        rng = random.Random(options["seed"])  # noqa: S311 - reproducible synthetic data, not secrets
        areas = list(AreaOfActivity.objects.values_list("pk", "title"))
        reason = AnnulmentReason.objects.first()
        if not areas or reason is None:
            raise CommandError("the reference lists are empty: run migrate first")
        start = Certificate.objects.filter(number__startswith=options["prefix"]).count()
        signing.publish_current_key()  # the records are signed from now: the key is valid from before
        now = timezone.now()
        done = 0
        while done < count:
            size = min(options["batch"], count - done)
            rows, links = self._batch(rng, start + done, size, areas, reason, now, options["prefix"])
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    self._copy(rows, links)
                else:
                    self._bulk(rows, links)
                Surname.objects.bulk_create(
                    [Surname(word=w) for w in {row["search_last"] for row in rows}], ignore_conflicts=True
                )
            done += size
            self.stdout.write(f"{done}/{count}")
        self.stdout.write(self.style.SUCCESS(f"Generated {count} registry entries."))

    def _batch(
        self,
        rng: random.Random,
        offset: int,
        size: int,
        areas: list[tuple[int, str]],
        reason: AnnulmentReason,
        now: datetime,
        prefix: str,
    ) -> tuple[list[dict[str, Any]], list[tuple[int, ...]]]:
        rows = []
        links: list[tuple[int, ...]] = []  # one or two areas each
        for n in range(offset, offset + size):
            last, first, patronymic = person(rng)
            issued = date(2014, 7, 1) + timedelta(days=rng.randrange(0, (date(2026, 11, 1) - date(2014, 7, 1)).days))
            expires = date(issued.year + 5, issued.month, min(issued.day, 28)) - timedelta(days=1)
            annulled = issued + timedelta(days=rng.randrange(30, 1500)) if rng.random() < 0.03 else None
            chosen = rng.sample(areas, rng.choice((1, 1, 2)))
            rows.append(
                {
                    "number": f"{prefix}{issued.year}-{n + 1:07d}",
                    "last_name": last,
                    "first_name": first,
                    "patronymic": patronymic,
                    "search_last": search_key(last),
                    "search_name": search_key(f"{last} {first} {patronymic}"),
                    "issued_on": issued,
                    "expires_on": expires,
                    "areas_text": "; ".join(title for _pk, title in chosen),
                    "public_token": secrets.token_urlsafe(18),
                    "published_at": now,
                    "annulled_on": annulled,
                    "annulment_reason_id": reason.pk if annulled else None,
                    "annulment_reason_title": reason.title if annulled else "",
                    "annulment_basis": "Решение суда" if annulled else "",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            links.append(tuple(pk for pk, _title in chosen))
        for row in rows:
            self._sign(row)
        return rows, links

    @staticmethod
    def _sign(row: dict[str, Any]) -> None:
        """Sign the row's record as registry.services does: the public shows the status of a record
        that verifies only, and the benchmark measures those checks (an unsigned row skips them)."""
        key = signing.current_key()
        row["signed_at"] = row["updated_at"]
        record = certificate_record(Certificate(**row))
        row["key_id"] = key.key_id
        row["signature"] = signing.b64encode(key.private.sign(canonical_json(record)))
        row["record_seal"] = signing.seal(record, row["signature"], key.key_id)

    COLUMNS = [
        "number", "last_name", "first_name", "patronymic", "search_last", "search_name", "issued_on", "expires_on", "areas_text",
        "public_token", "published_at", "annulled_on", "annulment_reason_id", "annulment_reason_title", "annulment_basis", "created_at", "updated_at",
        "handover", "tracking_number", "signature", "key_id", "signed_at", "record_seal", "pdf",
    ]  # fmt: skip

    def _copy(self, rows: list[dict[str, Any]], links: list[tuple[int, ...]]) -> None:
        columns = ", ".join(self.COLUMNS)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY registry_certificate ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row([row.get(c, "") if c in row else "" for c in self.COLUMNS])
            cursor.execute(
                "SELECT id, number FROM registry_certificate WHERE number = ANY(%s)", [[r["number"] for r in rows]]
            )
            ids = dict((number, pk) for pk, number in cursor.fetchall())
            buffer = io.StringIO()
            for row, areas in zip(rows, links, strict=True):
                for area_id in areas:
                    buffer.write(f"{ids[row['number']]}\t{area_id}\n")
            buffer.seek(0)
            with cursor.copy("COPY registry_certificate_areas (certificate_id, areaofactivity_id) FROM STDIN") as copy:  # type: ignore[attr-defined]
                copy.write(buffer.read())

    def _bulk(self, rows: list[dict[str, Any]], links: list[tuple[int, ...]]) -> None:
        created = Certificate.objects.bulk_create([Certificate(**row) for row in rows], batch_size=2000)
        through = Certificate.areas.through
        through.objects.bulk_create(
            [
                through(certificate_id=c.pk, areaofactivity_id=a)
                for c, areas in zip(created, links, strict=True)
                for a in areas
            ],
            batch_size=5000,
        )
