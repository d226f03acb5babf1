"""Each accounting system as the contract suite acts in it: one small class per provider
with what a test does as the provider's own user (a product, a payment, a credit note) and
what it reads from the emulator to count (every sales invoice, by number). A new provider
adds one class here and one name to `ACCOUNTING_SYSTEMS`."""

from collections import Counter
from decimal import Decimal

from connections.models import Connection

ACCOUNTING_SYSTEMS = ["quickbooks", "xero"]


class QuickBooksBooks:
    system = "quickbooks"
    income_account = "Services"  # the standard income account of a new company

    def __init__(self, connection: Connection, sandbox: str):
        self.connection, self.sandbox = connection, sandbox

    @property
    def control_path(self) -> str:
        return f"quickbooks/companies/{self.connection.external_id}"

    @property
    def qb(self):
        from connections.quickbooks.adapter import QuickBooksAdapter

        return QuickBooksAdapter(self.connection)._client()[0]

    def add_item(self, name: str, sku: str) -> None:
        from quickbooks.objects.item import Item

        services = self.qb.query("SELECT * FROM Account WHERE Name = 'Services'")
        item = Item()
        item.Name, item.Sku, item.Type = name, sku, "Service"
        item.IncomeAccountRef = {"value": services["QueryResponse"]["Account"][0]["Id"]}
        item.save(qb=self.qb)

    def invoice_numbers(self) -> Counter[str]:
        """Numbers of the sales invoices the emulator holds (void ones left out)."""
        from sandbox.quickbooks.models import Entity

        rows = Entity.objects.using("sandbox").filter(
            company__realm_id=self.connection.external_id, entity_type="Invoice", deleted=False
        )
        return Counter(
            r.data.get("DocNumber", "")
            for r in rows
            if "Voided" not in r.data.get("PrivateNote", "")
        )

    def invoices(self) -> list[dict]:
        """Every live sales invoice the emulator holds: id, number, the deal its note names,
        total, customer (read from the sandbox's tables: no call for a fault to hit)."""
        from sandbox.quickbooks.models import Entity

        rows = Entity.objects.using("sandbox").filter(
            company__realm_id=self.connection.external_id, entity_type="Invoice", deleted=False
        )
        return [
            {"id": str(r.entity_id), "number": d.get("DocNumber", ""),
             "deal": d.get("PrivateNote", "").split()[-1] if d.get("PrivateNote") else "",
             "total": Decimal(str(d.get("TotalAmt"))),
             "balance": Decimal(str(d.get("Balance"))),
             "customer": (d.get("CustomerRef") or {}).get("value", "")}
            for r, d in ((r, r.data) for r in rows) if "Voided" not in d.get("PrivateNote", "")
        ]  # fmt: skip

    def payments_on(self, invoice_id: str) -> list[tuple[Decimal, str]]:
        """(amount applied, note) of each live payment on an invoice, from the emulator."""
        from sandbox.quickbooks.models import Entity

        rows = Entity.objects.using("sandbox").filter(
            company__realm_id=self.connection.external_id, entity_type="Payment", deleted=False
        )
        found = []
        for d in (r.data for r in rows.order_by("entity_id")):
            for line in d.get("Line", []):
                if {"TxnId": invoice_id, "TxnType": "Invoice"} in line.get("LinkedTxn", []):
                    found.append((Decimal(str(line["Amount"])), d.get("PrivateNote", "")))
        return found

    def delete_payment(self, invoice_id: str) -> None:
        """The bookkeeper deletes the payment on an invoice (python-quickbooks' delete)."""
        from quickbooks.objects.payment import Payment

        from sandbox.quickbooks.models import Entity

        rows = Entity.objects.using("sandbox").filter(
            company__realm_id=self.connection.external_id, entity_type="Payment", deleted=False
        )
        link = {"TxnId": invoice_id, "TxnType": "Invoice"}
        (row,) = [r for r in rows if any(link in line.get("LinkedTxn", [])
                                         for line in r.data.get("Line", []))]  # fmt: skip
        Payment.get(row.entity_id, qb=self.qb).delete(qb=self.qb)

    def key_again(self, invoice_id: str, number: str) -> str:
        """The bookkeeper types an invoice in again by hand: same customer, same lines,
        another number. Returns the new invoice's id."""
        from quickbooks.objects.invoice import Invoice

        original = Invoice.get(invoice_id, qb=self.qb)
        copy = Invoice()
        copy.CustomerRef, copy.DocNumber = {"value": original.CustomerRef.value}, number
        copy.TxnDate = original.TxnDate
        copy.Line = [
            {"Amount": str(line.Amount), "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": detail.ItemRef.value},
                                     "Qty": detail.Qty, "UnitPrice": detail.UnitPrice}}
            for line in original.Line if line.DetailType == "SalesItemLineDetail"
            for detail in [line.SalesItemLineDetail]
        ]  # fmt: skip
        return str(copy.save(qb=self.qb).Id)

    @staticmethod
    def is_invoice_write(row: dict) -> bool:
        return row["route"].endswith("batch")

    def pay(self, invoice_id: str, customer_id: str, amount: Decimal) -> None:
        from quickbooks.objects.payment import Payment

        payment = Payment()
        payment.CustomerRef = {"value": customer_id}
        payment.TotalAmt, payment.TxnDate = amount, "2026-11-25"
        payment.Line = [
            {"Amount": str(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        ]
        payment.save(qb=self.qb)

    def credit(self, customer_id: str, amount: Decimal) -> None:
        from quickbooks.objects.creditmemo import CreditMemo

        item = self.qb.query("SELECT * FROM Item MAXRESULTS 1")["QueryResponse"]["Item"][0]
        memo = CreditMemo()
        memo.CustomerRef, memo.TxnDate = {"value": customer_id}, "2026-11-26"
        memo.Line = [{"Amount": str(amount), "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}]  # fmt: skip
        memo.save(qb=self.qb)


class XeroBooks:
    system = "xero"
    income_account = "Sales"  # the standard revenue account of a new organisation

    def __init__(self, connection: Connection, sandbox: str):
        self.connection, self.sandbox = connection, sandbox

    @property
    def control_path(self) -> str:
        return f"xero/organisations/{self.connection.external_id}"

    @property
    def api(self):
        from sandbox.xero.seed_book import xero_api

        self.connection.refresh_from_db()
        return xero_api(self.sandbox, {"access_token": self.connection.access_token})

    def _write(self, method: str, body: dict) -> None:
        answer = getattr(self.api, method)(
            self.connection.external_id, body, _preload_content=False
        )
        assert answer.status == 200, answer.data

    def add_item(self, name: str, sku: str) -> None:
        self._write("create_items", {"Items": [
            {"Code": sku, "Name": name, "SalesDetails": {"AccountCode": "200"}}
        ]})  # fmt: skip

    def invoice_numbers(self) -> Counter[str]:
        from sandbox.xero.models import Record

        rows = Record.objects.using("sandbox").filter(
            organisation__tenant_id=self.connection.external_id, kind="Invoice"
        )
        return Counter(r.number for r in rows if r.data.get("Status") not in ("VOIDED", "DELETED"))

    def invoices(self) -> list[dict]:
        from sandbox.xero.models import Record

        rows = Record.objects.using("sandbox").filter(
            organisation__tenant_id=self.connection.external_id, kind="Invoice"
        )
        return [
            {"id": d["InvoiceID"], "number": d.get("InvoiceNumber", ""),
             "deal": d.get("Reference", "").split()[-1] if d.get("Reference") else "",
             "total": Decimal(str(d.get("Total"))),
             "balance": Decimal(str(d.get("AmountDue"))),
             "customer": (d.get("Contact") or {}).get("ContactID", "")}
            for d in (r.data for r in rows) if d.get("Status") not in ("VOIDED", "DELETED")
        ]  # fmt: skip

    def payments_on(self, invoice_id: str) -> list[tuple[Decimal, str]]:
        """(amount, reference) of each live payment on an invoice, from the emulator."""
        from sandbox.xero.models import Record

        rows = Record.objects.using("sandbox").filter(
            organisation__tenant_id=self.connection.external_id, kind="Payment"
        )
        return [
            (Decimal(str(d["Amount"])), d.get("Reference", ""))
            for d in (r.data for r in rows.order_by("pk"))
            if d.get("Status") != "DELETED" and d["Invoice"]["InvoiceID"] == invoice_id
        ]

    def delete_payment(self, invoice_id: str) -> None:
        """The bookkeeper removes the payment on an invoice (Status DELETED)."""
        from sandbox.xero.models import Record

        rows = Record.objects.using("sandbox").filter(
            organisation__tenant_id=self.connection.external_id, kind="Payment"
        )
        (payment,) = [
            d["PaymentID"]
            for d in (r.data for r in rows)
            if d.get("Status") != "DELETED" and d["Invoice"]["InvoiceID"] == invoice_id
        ]
        answer = self.api.delete_payment(
            self.connection.external_id, payment, {"Status": "DELETED"}, _preload_content=False
        )
        assert answer.status == 200, answer.data

    def key_again(self, invoice_id: str, number: str) -> str:
        """The bookkeeper types an invoice in again by hand: same contact, same lines,
        another number. Returns the new invoice's id."""
        import json

        answer = self.api.get_invoice(self.connection.external_id, invoice_id,
                                      _preload_content=False)  # fmt: skip
        original = json.loads(answer.data)["Invoices"][0]
        lines = [{k: line[k] for k in ("Description", "Quantity", "UnitAmount", "AccountCode",
                                        "ItemCode") if line.get(k) is not None}
                 for line in original["LineItems"]]  # fmt: skip
        made = self.api.create_invoices(self.connection.external_id, {"Invoices": [
            {"Type": "ACCREC", "Contact": {"ContactID": original["Contact"]["ContactID"]},
             "InvoiceNumber": number, "Date": original["DateString"][:10],
             "Status": "AUTHORISED", "LineAmountTypes": original.get("LineAmountTypes", "NoTax"),
             "LineItems": lines}
        ]}, _preload_content=False)  # fmt: skip
        assert made.status == 200, made.data
        return json.loads(made.data)["Invoices"][0]["InvoiceID"]

    @staticmethod
    def is_invoice_write(row: dict) -> bool:
        return row["method"] == "PUT" and row["route"].rstrip("/").endswith("Invoices")

    def pay(self, invoice_id: str, customer_id: str, amount: Decimal) -> None:
        self._write("create_payments", {"Payments": [
            {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
             "Date": "2026-11-25", "Amount": str(amount)}
        ]})  # fmt: skip

    def credit(self, customer_id: str, amount: Decimal) -> None:
        self._write("create_credit_notes", {"CreditNotes": [
            {"Type": "ACCRECCREDIT", "Contact": {"ContactID": customer_id}, "Status": "AUTHORISED",
             "Date": "2026-11-26", "LineAmountTypes": "NoTax",
             "LineItems": [{"Description": "Goodwill", "Quantity": "1",
                            "UnitAmount": str(amount), "AccountCode": "200"}]}
        ]})  # fmt: skip


BOOKS = {"quickbooks": QuickBooksBooks, "xero": XeroBooks}


# --- CRMs ----------------------------------------------------------------------------------
# Each CRM as the CRM contract suite acts in it: what its own user does (a company, a
# person, a billable record with lines, a bad number) and how the test makes it throttle.
CRM_SYSTEMS = ["hubspot", "jobber"]


class HubSpotCrm:
    system = "hubspot"
    bills_itself = False  # a sales CRM: won deals become invoices; no invoices, jobs, balances

    def __init__(self, connection: Connection, sandbox: str):
        self.connection, self.sandbox = connection, sandbox

    @property
    def control_path(self) -> str:
        return f"hubspot/portals/{self.connection.external_id}"

    @property
    def api(self):
        from hubspot import HubSpot

        self.connection.refresh_from_db()
        return HubSpot(
            access_token=self.connection.access_token, host=f"{self.sandbox}/sandbox/hubspot"
        )

    def company(self, name: str, **fields) -> str:
        return self.api.crm.companies.basic_api.create({"properties": {"name": name, **fields}}).id

    def person(self, first: str, last: str, email: str = "") -> str:
        properties = {"firstname": first, "lastname": last, "email": email}
        return self.api.crm.contacts.basic_api.create({"properties": properties}).id

    def rename(self, record_id: str, name: str) -> None:
        self.api.crm.companies.basic_api.update(record_id, {"properties": {"name": name}})

    def billable(self, company: str, lines: list[tuple[str, str, str]], number: str = "") -> str:
        """A closed-won deal with line items (name, quantity, unit price)."""
        from ..sync_support import Systems

        systems = Systems(None, None, self.connection, self.sandbox)
        rows = [(name, "", quantity, price) for name, quantity, price in lines]
        deal = systems.deal(f"Deal {number or len(lines)}", rows, company=company)
        systems.win(deal)
        return deal

    def bad_billable(self, company: str) -> str:
        return self.billable(company, [("Roof inspection", "NaN", "12.50")])

    @staticmethod
    def small_pages(monkeypatch, size: int) -> None:
        monkeypatch.setattr("connections.hubspot.adapter.BATCH_LIMIT", size)

    def throttle(self, on: bool = True) -> None:
        import requests

        requests.put(
            f"{self.sandbox}/sandbox/control/faults",
            json={"system": "hubspot", "account": self.connection.external_id, "throttle": on},
            timeout=10,
        ).raise_for_status()


class JobberCrm:
    system = "jobber"
    bills_itself = True  # a field-service CRM: its own invoices, jobs and client balances

    def __init__(self, connection: Connection, sandbox: str):
        from sandbox.jobber.ids import decode_id

        self.connection, self.sandbox = connection, sandbox
        self.account_id = decode_id(connection.external_id, "Account")[1]
        self._keys = 0

    @property
    def control_path(self) -> str:
        return f"jobber/accounts/{self.account_id}"

    def book(self, doc: dict) -> dict:
        import requests

        answer = requests.post(
            f"{self.sandbox}/sandbox/control/{self.control_path}/book",
            json={"notify": False, **doc},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["ids"]

    def _key(self) -> str:
        self._keys += 1
        return f"k{self._keys}"

    def company(self, name: str, **fields) -> str:
        key = self._key()
        spec = {"key": key, "company_name": name, "is_company": True}
        if "phone" in fields:
            spec["phones"] = [{"number": fields.pop("phone"), "primary": True}]
        if "email" in fields:
            spec["emails"] = [{"address": fields.pop("email"), "primary": True}]
        names = {"zip": "postal_code", "city": "city", "address": "street1", "state": "province"}
        spec |= {names[k]: v for k, v in fields.items()}
        return self.book({"clients": [spec]})[key]

    def person(self, first: str, last: str, email: str = "") -> str:
        key = self._key()
        spec = {"key": key, "first_name": first, "last_name": last}
        if email:
            spec["emails"] = [{"address": email, "primary": True}]
        return self.book({"clients": [spec]})[key]

    def rename(self, record_id: str, name: str) -> None:
        """The contractor renames a company client in Jobber (its clientEdit mutation)."""
        from connections.jobber import graphql
        from connections.refresh import access_token_for

        edit = (
            "mutation Edit($id: EncodedId!, $name: String) { clientEdit(clientId: $id,"
            " input: {companyName: $name}) { client { id } userErrors { message path } } }"
        )
        answer = graphql.post(
            access_token_for(self.connection), edit, {"id": record_id, "name": name}
        )
        graphql.raise_user_errors(answer.data["clientEdit"], "Renaming a Jobber client")

    def billable(
        self,
        company: str,
        lines: list[tuple[str, str, str]],
        number: str = "",
        status: str = "awaiting_payment",
        job: bool = True,
    ) -> str:
        """An issued invoice for the client `company` (an encoded id), for a job of its own."""
        from sandbox.jobber.ids import decode_id
        from sandbox.jobber.models import Client

        client = Client.objects.using("sandbox").get(pk=decode_id(company)[1])
        key, client_key = self._key(), self._key()
        # The book refers to clients by key: lean on an existing one through a stand-in key.
        doc = {"clients": [], "jobs": [], "invoices": []}
        spec_lines = [{"name": n, "quantity": q, "unit_price": p} for n, q, p in lines]
        invoice = {"key": key, "client": client_key, "lines": spec_lines,
                   "invoice_status": status, "issued_date": "2026-11-20",
                   "due_date": "2026-12-20", "subject": "Roof work"}  # fmt: skip
        if number:
            invoice["invoice_number"] = number
        if job:
            doc["jobs"].append({"key": f"{key}-job", "client": client_key, "title": "Roof job",
                                "lines": spec_lines})  # fmt: skip
            invoice["jobs"] = [f"{key}-job"]
        doc["invoices"].append(invoice)
        ids = _book_for_client(self, client, client_key, doc)
        return ids[key]

    def pay(self, invoice_id: str, amount: Decimal, on: str = "2026-11-28") -> str:
        """The contractor records a payment on an invoice in Jobber; its id."""
        from connections.jobber import graphql
        from connections.refresh import access_token_for

        create = (
            "mutation Pay($input: PaymentRecordCreateInput!) { paymentRecordCreate(input:"
            " $input) { paymentRecord { id } userErrors { message path } } }"
        )
        variables = {"input": {"invoiceId": invoice_id, "amount": float(amount),
                               "entryDate": f"{on}T00:00:00Z", "paymentType": "CHECK"}}  # fmt: skip
        answer = graphql.post(access_token_for(self.connection), create, variables)
        graphql.raise_user_errors(answer.data["paymentRecordCreate"], "Recording a payment")
        return answer.data["paymentRecordCreate"]["paymentRecord"]["id"]

    def refund(self, invoice_id: str, amount: Decimal) -> None:
        """A refund recorded on an invoice (written to the emulator's tables: the public
        API takes payments, not refunds)."""
        from django.utils import timezone

        from sandbox.jobber import store
        from sandbox.jobber.ids import decode_id
        from sandbox.jobber.models import Invoice, PaymentRecord

        invoice = Invoice.objects.using("sandbox").get(pk=decode_id(invoice_id)[1])
        now = timezone.now()
        PaymentRecord.objects.using("sandbox").create(
            account=invoice.account, client=invoice.client, invoice=invoice, amount=amount,
            tip_amount=Decimal(0), entry_date=now.date(), adjustment_type="REFUND",
            created_at=now, updated_at=now,
        )  # fmt: skip
        store.settle(invoice)

    def change_payment(self, payment_id: str, amount: Decimal) -> None:
        """The contractor corrects a payment's amount in Jobber."""
        from django.utils import timezone

        from sandbox.jobber import store
        from sandbox.jobber.ids import decode_id
        from sandbox.jobber.models import PaymentRecord

        row = PaymentRecord.objects.using("sandbox").get(pk=decode_id(payment_id)[1])
        row.amount, row.updated_at = amount, timezone.now()
        row.save()
        store.settle(row.invoice)

    def payments(self, invoice_id: str) -> list[dict]:
        """The payment records on an invoice, as the emulator holds them."""
        from sandbox.jobber.ids import decode_id
        from sandbox.jobber.models import PaymentRecord

        rows = PaymentRecord.objects.using("sandbox").filter(invoice_id=decode_id(invoice_id)[1])
        return [{"amount": r.amount, "kind": r.adjustment_type, "details": r.details}
                for r in rows.order_by("pk")]  # fmt: skip

    @staticmethod
    def small_pages(monkeypatch, size: int) -> None:
        from dataclasses import replace

        from connections.jobber import schema

        for name in ("CLIENTS", "INVOICES", "JOBS"):
            monkeypatch.setattr(schema, name, replace(getattr(schema, name), page_size=size))

    def bad_billable(self, company: str) -> str:
        # Quantity x price past what the books can hold on one line (numbers.LIMIT).
        return self.billable(company, [("Roof inspection", "2", "9999999999.00")])

    def throttle(self, on: bool = True) -> None:
        """Empty the cost bucket (it restores quickly): the next query is THROTTLED."""
        import requests

        from sandbox.jobber import ratelimit

        requests.patch(
            f"{self.sandbox}/sandbox/control/{self.control_path}",
            json={"rate_limits": on, "maximum_available": 10000, "restore_rate": 5000},
            timeout=10,
        ).raise_for_status()
        if on:
            ratelimit.try_spend(self.account_id, 10000, 5000, 10000)


def _book_for_client(crm: JobberCrm, client, client_key: str, doc: dict) -> dict:
    """Write `doc` whose records refer to an existing client by `client_key`: the control
    API's book refers to clients it wrote itself, so the rows are moved onto `client`."""
    from sandbox.jobber.ids import decode_id
    from sandbox.jobber.models import Client, Invoice, Job

    doc["clients"] = [{"key": client_key, "first_name": "Stand-in"}]
    ids = crm.book(doc)
    stand_in = decode_id(ids[client_key])[1]
    Invoice.objects.using("sandbox").filter(client_id=stand_in).update(client=client)
    Job.objects.using("sandbox").filter(client_id=stand_in).update(client=client)
    Client.objects.using("sandbox").filter(pk=stand_in).delete()
    return ids


CRMS = {"hubspot": HubSpotCrm, "jobber": JobberCrm}
