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
             "customer": (d.get("CustomerRef") or {}).get("value", "")}
            for r, d in ((r, r.data) for r in rows) if "Voided" not in d.get("PrivateNote", "")
        ]  # fmt: skip

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
             "customer": (d.get("Contact") or {}).get("ContactID", "")}
            for d in (r.data for r in rows) if d.get("Status") not in ("VOIDED", "DELETED")
        ]  # fmt: skip

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
