from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.tokens import do_create_api_token
from clients.models import User


class Command(BaseCommand):
    help = "Create a personal API token for a user and print its key (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--days", type=int, help="Lifetime in days (default API_TOKEN_DAYS).")
        parser.add_argument("--name", default="Created from the command line")

    def handle(self, *args, email: str, days: int | None, name: str, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email!r}.")
        try:
            token, key = do_create_api_token(user, name, days)
        except (PermissionDenied, ValidationError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(key)
        self.stderr.write(
            f"Token {token.prefix}… for {user.email}, expires {token.expires_at:%Y-%m-%d}. "
            "The key is not stored: copy it now."
        )
