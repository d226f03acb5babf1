"""Where the books file a posted invoice under its job, and the name the job goes by there.

The kinds are `sync.models.JobReference`'s values (a layer above; a test keeps them equal):
the note only, a QuickBooks class or sub-customer per job, a Xero tracking option per job.
An adapter finds or creates the class, sub-customer or option by this name, so the same job
is always filed under the same one.
"""

import re
from dataclasses import dataclass

NOTE, CLASS, SUB_CUSTOMER, TRACKING = "note", "class", "sub_customer", "tracking"
# Separators QuickBooks reserves in names (":" joins a sub-customer to its parent in
# FullyQualifiedName) and line breaks: never part of a job's name.
_RESERVED = re.compile(r"[:\r\n\t]+")


@dataclass(frozen=True)
class JobFiling:
    """The job an invoice bills and how the client's books file it (`kind`); `category`:
    the tracking category whose options are jobs, where the books keep one."""

    kind: str
    number: str
    title: str = ""
    category: str = ""

    def name(self, limit: int) -> str:
        return job_name(self.number, self.title, limit)


# A name syncfirm gave a job: "Job #57" or "Job #57 - title", the last part of a nested
# name ("Jobs:Job #57 - Roof"). A bookkeeper's own "Job Costing" class names no job.
_JOB_NAME = re.compile(r"(?:^|:)\s*Job #(?P<number>[^\s:]+)(?: - [^:]*)?\s*$")


def job_number(name: str) -> str:
    """The job number a class, sub-customer or option is named for, or "" when it names no
    job syncfirm files."""
    found = _JOB_NAME.search(name or "")
    return found["number"] if found else ""


def names_job(name: str, number: str) -> bool:
    """Whether `name` is job `number`'s, whatever title it was given (a job retitled in the
    CRM stays under the entry it was first filed under)."""
    return bool(number) and job_number(name).casefold() == number.casefold()


def job_name(number: str, title: str, limit: int) -> str:
    """ "Job #57 - Kitchen remodel", the title cut to fit `limit` characters; the number is
    never cut (the audit reads the job back from it: `reconciliation.audit_run`)."""
    head = f"Job #{number}"
    title = " ".join(_RESERVED.sub(" ", title or "").split())
    room = limit - len(head) - len(" - ")
    if not title or room < 1:
        return head[:limit]
    return f"{head} - {title[:room].rstrip()}"
