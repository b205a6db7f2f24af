"""Django admin for setting conferences up. Every write goes through the services, so what is
done here is on the record like everything else; nothing on the record can be deleted."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from meetings.rooms.actors import Actor
from meetings.rooms.errors import DomainError
from meetings.rooms.models import (
    AgendaItem,
    BridgePoint,
    Candidate,
    Clip,
    Event,
    JoinLink,
    JoinLinkKind,
    Meeting,
    MeetingStatus,
    Recording,
    RoleGrant,
    Round,
    RoundGrant,
)
from meetings.rooms.round_import import ImportRefused, round_import, size_errors
from meetings.rooms.services import (
    accounts,
    agenda,
    candidates,
    halls,
    join_links,
    meetings,
    roles,
    rounds,
)


class ServiceAdmin(admin.ModelAdmin):
    """Turns a service's refusal into a message on the form instead of an error page."""

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def adopt(obj, created) -> None:
        """Point the admin's unsaved object at the row the service created."""
        obj.pk = created.pk
        obj._state.adding = False


class MeetingAddForm(forms.ModelForm):
    studio_name = forms.CharField(
        label=_("name of the central studio"), initial=_("Central studio"), max_length=200
    )

    class Meta:
        model = Meeting
        fields = [
            "title",
            "electoral_unit",
            "scheduled_start",
            "presentation_minutes",
            "slug",
            "round",
        ]


def _transition_action(target: MeetingStatus, label):
    def action(modeladmin, request, queryset):
        for meeting in queryset:
            try:
                meetings.meeting_transition(
                    meeting=meeting, to_status=target, actor=Actor.for_user(request.user)
                )
            except DomainError as error:
                modeladmin.message_user(request, f"{meeting}: {error.message}", messages.ERROR)

    action.__name__ = f"make_{target.value}"
    return admin.action(description=label)(action)


@admin.action(description=_("Create the usual agenda"))
def build_agenda(modeladmin, request, queryset):
    for meeting in queryset:
        try:
            agenda.agenda_build_default(meeting=meeting, actor=Actor.for_user(request.user))
        except DomainError as error:
            modeladmin.message_user(request, f"{meeting}: {error.message}", messages.ERROR)


@admin.register(Meeting)
class MeetingAdmin(ServiceAdmin):
    list_display = ["title", "electoral_unit", "scheduled_start", "status", "slug", "round"]
    list_filter = ["status", "round"]
    search_fields = ["title", "electoral_unit", "slug"]
    readonly_fields = ["status", "created_at"]
    actions = [
        _transition_action(MeetingStatus.SCHEDULED, _("Schedule")),
        _transition_action(MeetingStatus.LIVE, _("Open (go live)")),
        _transition_action(MeetingStatus.ENDED, _("End")),
        _transition_action(MeetingStatus.ARCHIVED, _("Archive")),
        build_agenda,
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = MeetingAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "title",
                "electoral_unit",
                "scheduled_start",
                "presentation_minutes",
                "slug",
                "round",
                "studio_name",
            ]
        return [
            "slug",
            "round",
            "title",
            "electoral_unit",
            "scheduled_start",
            "presentation_minutes",
            "status",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug", "round"] if obj else []

    def save_model(self, request, obj, form, change):
        actor = Actor.for_user(request.user)
        if change:
            meetings.meeting_update(
                meeting=obj, actor=actor, **{f: form.cleaned_data[f] for f in form.changed_data}
            )
        else:
            data = form.cleaned_data
            self.adopt(
                obj,
                meetings.meeting_create(
                    title=data["title"],
                    electoral_unit=data["electoral_unit"],
                    scheduled_start=data["scheduled_start"],
                    presentation_minutes=data["presentation_minutes"],
                    slug=data["slug"] or None,
                    studio_name=data["studio_name"],
                    round=data["round"],
                    actor=actor,
                ),
            )


@admin.register(BridgePoint)
class BridgePointAdmin(ServiceAdmin):
    list_display = ["name", "meeting", "district", "commune", "is_studio", "attendance"]
    list_filter = ["meeting__round", "meeting", "district"]
    search_fields = ["name", "address", "commune", "district"]

    def get_fields(self, request, obj=None):
        fields = [
            "meeting",
            "name",
            "address",
            "commune",
            "district",
            "operator_name",
            "operator_phone",
        ]
        return [*fields, "is_studio", "attendance"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return ["meeting", "is_studio"] if obj else []

    def save_model(self, request, obj, form, change):
        actor = Actor.for_user(request.user)
        data = form.cleaned_data
        if not change:
            self.adopt(
                obj,
                halls.hall_add(
                    meeting=data["meeting"],
                    name=data["name"],
                    address=data["address"],
                    commune=data["commune"],
                    district=data["district"],
                    operator_name=data["operator_name"],
                    operator_phone=data["operator_phone"],
                    actor=actor,
                ),
            )
            return
        details = {f: data[f] for f in form.changed_data if f != "attendance"}
        if details:
            halls.hall_update(hall=obj, actor=actor, **details)
        if "attendance" in form.changed_data and data["attendance"] is not None:
            halls.hall_set_attendance(hall=obj, count=data["attendance"], actor=actor)


@admin.register(Candidate)
class CandidateAdmin(ServiceAdmin):
    list_display = ["name", "meeting", "current_position"]
    list_filter = ["meeting"]
    search_fields = ["name"]
    fields = ["meeting", "name", "current_position", "bio"]

    def get_readonly_fields(self, request, obj=None):
        return ["meeting"] if obj else []

    def save_model(self, request, obj, form, change):
        actor = Actor.for_user(request.user)
        data = form.cleaned_data
        if change:
            candidates.candidate_update(
                candidate=obj, actor=actor, **{f: data[f] for f in form.changed_data}
            )
        else:
            self.adopt(
                obj,
                candidates.candidate_add(
                    meeting=data["meeting"],
                    name=data["name"],
                    current_position=data["current_position"],
                    bio=data["bio"],
                    actor=actor,
                ),
            )


class GrantAdmin(ServiceAdmin):
    """A grant is added or revoked (deleted, through its service), never edited."""

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(RoleGrant)
class RoleGrantAdmin(GrantAdmin):
    list_display = ["user", "role", "meeting", "hall", "candidate", "granted_at"]
    list_filter = ["meeting", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["meeting", "user", "role", "hall", "candidate"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        self.adopt(
            obj,
            roles.role_grant(
                meeting=data["meeting"],
                user=data["user"],
                role=data["role"],
                hall=data["hall"],
                candidate=data["candidate"],
                actor=Actor.for_user(request.user),
            ),
        )

    def delete_model(self, request, obj):
        roles.role_revoke(grant=obj, actor=Actor.for_user(request.user))

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            self.delete_model(request, grant)


class RoundImportForm(forms.Form):
    file = forms.FileField(
        label=_("spreadsheet"), help_text=_("An XLSX workbook or a CSV file (docs/rounds.md).")
    )


@admin.register(Round)
class RoundAdmin(ServiceAdmin):
    list_display = ["title", "election", "level", "starts_on", "ends_on", "slug"]
    search_fields = ["title", "election", "slug"]
    fields = ["slug", "title", "election", "level", "starts_on", "ends_on"]
    change_list_template = "admin/rooms/round/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        # A round is set up once; its conferences are changed each on its own.
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        self.adopt(obj, rounds.round_create(**{f: data[f] for f in self.fields}))

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="rooms_round_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """The same import as ``manage.py import_round``, with the same errors."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors = []
        form = RoundImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if refused := size_errors(upload.size):  # not read at all
                    raise ImportRefused(refused)
                summary = round_import(
                    name=upload.name, data=upload.read(), actor=Actor.for_user(request.user)
                )
            except ImportRefused as refusal:
                errors = [str(error) for error in refusal.errors]
            else:
                self.message_user(
                    request,
                    gettext_now(
                        "Imported the round “%(round)s”: %(conferences)d conferences, "
                        "%(halls)d halls, %(candidates)d candidates."
                    )
                    % {
                        "round": summary.round.title,
                        "conferences": summary.conferences,
                        "halls": summary.halls,
                        "candidates": summary.candidates,
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:rooms_round_changelist"))
        return TemplateResponse(
            request,
            "admin/rooms/round/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import a round from a spreadsheet"),
                "form": form,
                "errors": errors,
            },
        )


@admin.register(RoundGrant)
class RoundGrantAdmin(GrantAdmin):
    list_display = ["user", "round", "granted_at"]
    list_filter = ["round"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["round", "user"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        self.adopt(
            obj,
            rounds.round_organiser_grant(
                round=data["round"], user=data["user"], actor=Actor.for_user(request.user)
            ),
        )

    def delete_model(self, request, obj):
        rounds.round_organiser_revoke(grant=obj, actor=Actor.for_user(request.user))

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            self.delete_model(request, grant)


@admin.register(AgendaItem)
class AgendaItemAdmin(ServiceAdmin):
    list_display = [
        "title",
        "meeting",
        "position",
        "kind",
        "candidate",
        "allowance_seconds",
        "started_at",
        "ended_at",
    ]
    list_filter = ["meeting", "kind"]

    def get_fields(self, request, obj=None):
        if obj:
            return [
                "meeting",
                "kind",
                "candidate",
                "title",
                "allowance_seconds",
                "started_at",
                "ended_at",
            ]
        return ["meeting", "kind", "candidate", "title", "allowance_seconds"]

    def get_readonly_fields(self, request, obj=None):
        return ["meeting", "kind", "candidate", "started_at", "ended_at"] if obj else []

    def save_model(self, request, obj, form, change):
        actor = Actor.for_user(request.user)
        data = form.cleaned_data
        if change:
            agenda.agenda_item_update(
                item=obj,
                actor=actor,
                title=data["title"],
                allowance_seconds=data["allowance_seconds"],
            )
        else:
            self.adopt(
                obj,
                agenda.agenda_item_add(
                    meeting=data["meeting"],
                    kind=data["kind"],
                    title=data["title"],
                    candidate=data["candidate"],
                    allowance_seconds=data["allowance_seconds"],
                    actor=actor,
                ),
            )


@admin.action(description=_("Replace the link (the old one stops working)"))
def rotate_links(modeladmin, request, queryset):
    for link in queryset.filter(revoked_at__isnull=True).select_related("hall__meeting"):
        join_links.join_link_rotate(
            hall=link.hall, kind=JoinLinkKind(link.kind), actor=Actor.for_user(request.user)
        )


@admin.register(JoinLink)
class JoinLinkAdmin(ServiceAdmin):
    list_display = ["hall", "kind", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "hall__meeting"]
    actions = [rotate_links]
    readonly_fields = ["hall", "kind", "created_at", "expires_at", "revoked_at"]
    exclude = ["nonce"]

    def has_add_permission(self, request):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["seq", "meeting", "type", "audience", "actor_label", "created_at"]
    list_filter = ["meeting", "audience", "type"]
    search_fields = ["type", "actor_label"]
    ordering = ["meeting", "-seq"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Made by the media hub; on the record; never changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "part", "status", "started_at", "ended_at", "seconds", "sha256"]
    list_filter = ["meeting", "status"]


@admin.register(Clip)
class ClipAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "question", "status", "start_seconds", "end_seconds", "sha256"]
    list_filter = ["meeting", "status"]


@admin.action(
    description=_("Deactivate the selected accounts (their screens close at once)"),
    permissions=["change"],
)
def deactivate_accounts(modeladmin, request, queryset):
    actor = Actor.for_user(request.user)
    count = sum(accounts.account_deactivate(user=user, actor=actor) for user in queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d account deactivated.", "%(count)d accounts deactivated.", count)
        % {"count": count},
        messages.SUCCESS,
    )


# Django's own account pages, with a bulk deactivation that goes through the service. Editing an
# account (active, superuser, password) saves the model, which announces the change itself.
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    actions = [deactivate_accounts]
