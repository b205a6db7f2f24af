"""Django admin for setting conferences up. Every write goes through the services, so what is
done here is on the record like everything else; nothing on the record can be deleted."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
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
)
from meetings.rooms.services import (
    accounts,
    agenda,
    candidates,
    halls,
    join_links,
    meetings,
    roles,
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
        fields = ["title", "electoral_unit", "scheduled_start", "presentation_minutes", "slug"]


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
    list_display = ["title", "electoral_unit", "scheduled_start", "status", "slug"]
    list_filter = ["status"]
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
                "studio_name",
            ]
        return [
            "slug",
            "title",
            "electoral_unit",
            "scheduled_start",
            "presentation_minutes",
            "status",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug"] if obj else []

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
                    actor=actor,
                ),
            )


@admin.register(BridgePoint)
class BridgePointAdmin(ServiceAdmin):
    list_display = ["name", "meeting", "is_studio", "attendance", "operator_name"]
    list_filter = ["meeting"]
    search_fields = ["name", "address"]

    def get_fields(self, request, obj=None):
        fields = ["meeting", "name", "address", "operator_name", "operator_phone"]
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


@admin.register(RoleGrant)
class RoleGrantAdmin(ServiceAdmin):
    list_display = ["user", "role", "meeting", "hall", "candidate", "granted_at"]
    list_filter = ["meeting", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["meeting", "user", "role", "hall", "candidate"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

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
