import datetime
import zoneinfo

from django.conf import settings
from django.db import migrations, models

# A referral recorded before referrals needed a due date gets one: this many days after the
# answer was recorded, in the conference's time zone (docs/rounds.md, "Follow-through in public").
DEFAULT_REFERRAL_DAYS = 30


def referral_due_dates(apps, schema_editor):
    Answer = apps.get_model("questions", "Answer")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rows = Answer.objects.filter(kind="referred", due_date__isnull=True).only("pk", "created_at")
    for answer in rows.iterator():
        day = answer.created_at.astimezone(zone).date()
        answer.due_date = day + datetime.timedelta(days=DEFAULT_REFERRAL_DAYS)
        answer.save(update_fields=["due_date"])


class Migration(migrations.Migration):
    """Referrals have a due date, as written answers do: existing ones get the answer's day plus
    30 days. The agency's written answer names who answered for it and the day it was received.

    Depends on 0005 on this branch; 0006 comes from another branch, and the dependency is set to
    it when the two are merged."""

    dependencies = [
        ("questions", "0006_concerns"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="written_answer_from",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="answered for the agency by"
            ),
        ),
        migrations.AddField(
            model_name="answer",
            name="written_answer_received",
            field=models.DateField(
                blank=True, null=True, verbose_name="written answer received on"
            ),
        ),
        migrations.RunPython(referral_due_dates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="answer",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "referred"), _negated=True)
                | models.Q(("due_date__isnull", False)),
                name="referral_has_due_date",
            ),
        ),
    ]
