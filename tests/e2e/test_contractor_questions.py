"""A question to the contractor in the browser: the accountant asks from a finding in the
queue, the contractor opens the emailed link in a browser of their own (no cookies, no
account, a phone's width) and answers; the accountant's queue shows the answer on the
finding and the header a notice that opens it."""

import re

from tests.sandbox.conftest import sandbox_db
from tests.test_contractor_questions import ASKED, make_finding

from .conftest import expect, screenshot

pytestmark = sandbox_db

CONTRACTOR = "boss@alpharoofing.test"
ANSWER = "Yes: I keyed M-501 by hand the day after the job. Same job as SF-1044, void it."
WIDE = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_contractor_answers_from_the_emailed_link_and_the_finding_shows_it(
    accountant_page, new_context, two_firms, mailoutbox
):
    finding = make_finding(two_firms.client_a)
    page = accountant_page
    page.goto("/review/findings/")
    item = page.locator(f"#finding-{finding.pk}")
    expect(item).to_contain_text("1,250.00 USD")
    item.get_by_role("button", name="Ask the contractor").click()
    form = item.get_by_role("form", name="Ask the contractor")
    expect(form.get_by_label("Question")).to_have_value(ASKED)  # drafted in words
    form.get_by_label("Contractor's email").fill(CONTRACTOR)
    screenshot(page, "question-ask-form")
    form.get_by_role("button", name="Send the question").click()
    questions = item.get_by_role("group", name="Questions to the contractor")
    expect(questions).to_contain_text("Waiting for an answer")
    expect(questions).to_contain_text("Asked by accountant@alpha.test")

    assert len(mailoutbox) == 1 and mailoutbox[0].to == [CONTRACTOR]
    link = re.search(r"https?://\S+/answer/\S+", mailoutbox[0].body).group(0)

    # The contractor's own phone: no session, no account.
    phone = new_context()
    assert phone.cookies() == []
    contractor = phone.new_page()
    contractor.set_viewport_size({"width": 390, "height": 844})
    contractor.goto(link)
    expect(contractor.get_by_role("heading", level=1)).to_have_text("A question from Alpha Books")
    main = contractor.get_by_role("main")
    for words in ("Alpha Secret Roofing", ASKED, "SF-1044, M-501", "Pat Doe Roofing",
                  "1,250.00 USD", "Roof repair"):  # fmt: skip
        expect(main).to_contain_text(words)
    expect(contractor.get_by_role("link", name="Log in")).to_have_count(0)
    screenshot(contractor, "question-answer-page-390")
    assert contractor.evaluate(WIDE) <= 0, "the answer page scrolls sideways at 390 px"
    contractor.get_by_label("Your answer").fill(ANSWER)
    contractor.get_by_label("Your name").fill("Pat Doe")
    contractor.get_by_role("button", name="Send the answer").click()
    expect(contractor.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(main).to_contain_text(ANSWER)
    expect(main).to_contain_text("This link takes one answer")
    expect(contractor.get_by_role("button")).to_have_count(0)
    screenshot(contractor, "question-answered-390")
    assert contractor.evaluate(WIDE) <= 0

    # The accountant: a notice in the header, and the answer on the finding.
    page.reload()
    notices = page.get_by_role("link", name=re.compile(r"^Notices 1 new"))
    expect(notices).to_be_visible()
    expect(questions).to_contain_text("Answered by Pat Doe")
    expect(questions).to_contain_text(ANSWER)
    expect(questions.get_by_role("button", name="Withdraw question")).to_have_count(0)
    item.scroll_into_view_if_needed()
    screenshot(page, "question-answer-on-finding")
    notices.click()
    expect(page.get_by_role("main")).to_contain_text("Pat Doe answered the question")
    screenshot(page, "question-notices")
    page.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/review/findings/.*#finding-{finding.pk}$"))
    expect(page.locator(f"#finding-{finding.pk}")).to_contain_text(ANSWER)
    expect(page.get_by_role("link", name=re.compile(r"^Notices"))).to_have_text("Notices")
