"""The words the synthesis prints, in the language it is made in."""

from django.utils import translation
from django.utils.translation import gettext as _

from meetings.questions.minutes.words import words as minutes_words


def words(language: str) -> dict[str, str]:
    with translation.override(language):
        w = minutes_words()
        w.update(
            {
                "issuer": _("THE VIET NAM FATHERLAND FRONT COMMITTEE"),
                "doc_number": _("No.: …/BC-MTTQ"),
                "place_date": _("%(place)s, day %(day)s month %(month)s year %(year)s"),
                "place_blank": "……",
                "report": _("REPORT"),
                "report_title": _("Synthesis of voters' opinions and recommendations"),
                "intro": _(
                    "In the round “%(title)s” (%(election)s), from %(starts)s to %(ends)s, "
                    "%(conferences)s voter contact conferences were held online with %(halls)s "
                    "bridge points and %(attendance)s voters present, for %(candidates)s "
                    "candidates. Voters raised %(received)s questions; %(taken_up)s were taken up"
                    " at the conferences (with %(merged)s similar ones merged into them), making "
                    "%(recommendations)s opinions and recommendations, %(concerns)s of them "
                    "raised in several conferences. They are summarised below by field, with the "
                    "candidates' answers and the agencies they were referred to."
                ),
                "raised_at": _("Raised at"),
                "raised_in": _("%(conferences)s conferences, %(halls)s bridge points"),
                "localities": _("Localities"),
                "agency_responsible": _("Agency responsible"),
                "answers": _("Answers"),
                "no_agency": _("(no agency named)"),
                "agency_table": _("Summary by agency"),
                "recommendations": _("Recommendations"),
                "questions": _("Questions"),
                "answered_live": _("Answered at the conference"),
                "to_answer_in_writing": _("Written answer to follow"),
                "referred": _("Referred to an agency"),
                "written_received": _("Written answers received"),
                "locality_table": _("Summary by locality"),
                "district": _("District"),
                "commune": _("Commune"),
                "counts": _("What became of the questions received"),
                "taken_up_count": _("Taken up at the conferences"),
                "recommendation_count": _("Opinions and recommendations reported above"),
                "concern_count": _("Raised in several conferences (linked by the organiser)"),
                "not_accepted": _("Not accepted"),
                "recipients": _("Recipients:"),
                "recipients_file": _("Filed: office."),
                "signature": _("ON BEHALF OF THE STANDING COMMITTEE"),
                "none_taken_up": _("No opinion or recommendation was taken up."),
                "conference": _("Conference"),
                "conferences": _("Number of conferences"),
                "id": _("Question id"),
                "ref": _("In the report"),
                "topic": _("Field"),
                "reason": _("Reason"),
                "merged_into": _("Merged into"),
                "concern": _("Concern"),
                "all_questions": _("All questions"),
                "by_topic": _("By field"),
                "by_agency": _("By agency"),
                "by_locality": _("By locality"),
                "concerns": _("Concerns"),
                "halls_count": _("Number of bridge points"),
                "candidate": _("Candidate"),
                "answer_kind": _("How it was answered"),
            }
        )
        return w
