# One screen holds a hall (issue 11): the old per-websocket presence row becomes KioskConnection,
# and KioskSession is the screen (device) that holds its hall or asks to take it over.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0007_published"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(
            old_name="KioskSession",
            new_name="KioskConnection",
        ),
        # The renamed table keeps its foreign key's index under the old table's name, which the
        # new rooms_kiosksession table's index would take: drop it and build it again under
        # the new table's name.
        migrations.AlterField(
            model_name="kioskconnection",
            name="hall",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="kiosk_connections",
                to="rooms.bridgepoint",
                verbose_name="bridge point",
            ),
        ),
        migrations.AlterField(
            model_name="kioskconnection",
            name="hall",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="kiosk_connections",
                to="rooms.bridgepoint",
                verbose_name="bridge point",
            ),
        ),
        migrations.CreateModel(
            name="KioskSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("holding", "Holds the hall"),
                            ("asking", "Asks to take over"),
                            ("ended", "Ended"),
                        ],
                        max_length=8,
                        verbose_name="state",
                    ),
                ),
                (
                    "user_agent",
                    models.CharField(blank=True, max_length=300, verbose_name="browser"),
                ),
                (
                    "address",
                    models.CharField(blank=True, max_length=64, verbose_name="network address"),
                ),
                ("created_at", models.DateTimeField(verbose_name="opened")),
                ("since", models.DateTimeField(verbose_name="in this state since")),
                ("last_seen_at", models.DateTimeField(verbose_name="last seen")),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended")),
                (
                    "end_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("taken_over", "Another screen took over"),
                            ("ended_by_staff", "Ended by the studio"),
                            ("refused", "Refused by the studio"),
                            ("link_rotated", "The operator link was replaced"),
                            ("gone", "Stopped asking"),
                        ],
                        max_length=16,
                        verbose_name="why it ended",
                    ),
                ),
                (
                    "ended_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="ended by",
                    ),
                ),
                (
                    "hall",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="kiosk_sessions",
                        to="rooms.bridgepoint",
                        verbose_name="bridge point",
                    ),
                ),
            ],
            options={
                "verbose_name": "kiosk session",
                "verbose_name_plural": "kiosk sessions",
                "ordering": ["hall", "created_at", "id"],
                "indexes": [
                    models.Index(fields=["hall", "state"], name="kiosk_session_hall_state")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("state", "holding")),
                        fields=("hall",),
                        name="one_holding_screen_per_hall",
                        violation_error_message="Only one screen holds a hall.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("ended_at__isnull", False), ("state", "ended")),
                            models.Q(
                                models.Q(("state", "ended"), _negated=True),
                                ("end_reason", ""),
                                ("ended_at__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="ended_screen_says_when",
                    ),
                ],
            },
        ),
    ]
