"""Demo data for `make run`: staff accounts of every role, a demo candidate and upcoming sittings.
Idempotent: running it again changes nothing that exists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core import calendar
from core.models import User
from core.roles import Role

DEMO_PASSWORD = "demo-password-2026"

STAFF = [  # e-mail, surname, name, roles, superuser
    ("admin@mintrud.demo", "Администратор", "Системный", [], True),
    ("registrar@mintrud.demo", "Регистрова", "Анна", [Role.REGISTRAR], False),
    ("reviewer@mintrud.demo", "Проверкин", "Борис", [Role.REVIEWER], False),
    ("reviewer2@mintrud.demo", "Смотрова", "Вера", [Role.REVIEWER], False),
    ("signatory@mintrud.demo", "Подписнов", "Глеб", [Role.SIGNATORY], False),
    ("signatory2@mintrud.demo", "Директорова", "Дарья", [Role.SIGNATORY], False),
    ("exam-admin@mintrud.demo", "Тестов", "Евгений", [Role.EXAM_ADMIN], False),
    ("certificates@mintrud.demo", "Реестрова", "Жанна", [Role.CERTIFICATE_OFFICER], False),
    ("appeals@mintrud.demo", "Комиссаров", "Захар", [Role.APPEALS_MEMBER, Role.APPEALS_CHAIR], False),
    ("appeals2@mintrud.demo", "Членова", "Зоя", [Role.APPEALS_MEMBER], False),
    ("appeals3@mintrud.demo", "Голосов", "Захар", [Role.APPEALS_MEMBER], False),
    ("complaints@mintrud.demo", "Жалобина", "Ирина", [Role.COMPLAINT_HANDLER], False),
    ("auditor@mintrud.demo", "Ревизоров", "Кирилл", [Role.AUDITOR], False),
]
# p.49-50: the director or a deputy signs admission notices, only a deputy signs refusal letters;
# p.80: a deputy minister decides complaints.
POSITIONS = {
    "signatory@mintrud.demo": User.Position.DEPUTY_DIRECTOR,
    "signatory2@mintrud.demo": User.Position.DIRECTOR,
    "complaints@mintrud.demo": User.Position.DEPUTY_MINISTER,
}
CANDIDATES = [("candidate@mintrud.demo", "Иванов", "Иван", "Иванович")]
# The officials who sign the ministry's documents in the product, each with a demo qualified
# certificate (core.qes.demo): notices and refusal letters, decisions on attestation, certificates,
# complaint answers and, for the appeals commission's chair, appeal decisions.
SIGNING_OFFICIALS = [
    "signatory@mintrud.demo",
    "signatory2@mintrud.demo",
    "certificates@mintrud.demo",
    "complaints@mintrud.demo",
    "appeals@mintrud.demo",
]


class Command(BaseCommand):
    help = "Load demo accounts and sittings (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for email, last, first, roles, superuser in STAFF:
                user, created = User.objects.get_or_create(
                    email=email,
                    defaults={
                        "last_name": last,
                        "first_name": first,
                        "is_staff": True,
                        "is_superuser": superuser,
                        "email_confirmed_at": timezone.now(),
                        "position": POSITIONS.get(email, ""),
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                    user.groups.set([Group.objects.get(name=r.value) for r in roles])
                elif email in POSITIONS and not user.position:  # a demo database from before positions
                    user.position = POSITIONS[email]
                    user.save(update_fields=["position"])
            for email, last, first, patronymic in CANDIDATES:
                user, created = User.objects.get_or_create(
                    email=email,
                    defaults={
                        "last_name": last,
                        "first_name": first,
                        "patronymic": patronymic,
                        "email_confirmed_at": timezone.now(),
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
            self._sittings()
        from django.core.management import call_command

        # A demo database made before the sample grew (the practice set) gets the new questions.
        call_command("load_sample_bank", "--unless-own", stdout=self.stdout)
        self._signatures()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Password of every demo account: {DEMO_PASSWORD}"))

    def _signatures(self) -> None:
        from django.conf import settings

        from core.qes.demo import demo_signatures_load

        officials = list(User.objects.filter(email__in=SIGNING_OFFICIALS).order_by("email"))
        report = demo_signatures_load(folder=settings.VAR_DIR / "qes-demo", officials=officials)
        if report is None:
            self.stdout.write(
                self.style.WARNING(
                    "OpenSSL's GOST engine (libengine-gost-openssl) is not installed: demo documents are not signed."
                )
            )
            return
        self.stdout.write(
            f"Qualified signatures: demo PKI in {report.folder} (accredited CA: demo-accredited-ca.pem); "
            f"officials who sign: {', '.join(report.officials)}"
        )

    def _sittings(self) -> None:
        from exam.models import Sitting
        from exam.testing.services.sittings import sitting_create

        if Sitting.objects.filter(starts_at__gt=timezone.now()).exists():
            return
        admin = User.objects.get(email="exam-admin@mintrud.demo")
        day = calendar.today()
        for _n in range(3):
            day = calendar.add_working_days(day, 5)
            starts = timezone.make_aware(datetime.combine(day, time(10, 0)), calendar.MOSCOW)
            sitting_create(by=admin, starts_at=starts, is_remote=True, place="", capacity=100)
        sitting_create(
            by=admin,
            starts_at=starts + timedelta(hours=4),
            is_remote=False,
            place="Москва, ул. Ильинка, д. 21, ауд. 305",
            capacity=20,
        )
