from django.core.management.base import BaseCommand

from tashil.demands.escalation import escalate_referrals, escalate_referrals_task


class Command(BaseCommand):
    help = "Run the escalation ladder over overdue referrals (idempotent; run it from cron every few minutes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue it as a background task instead."
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = escalate_referrals_task.enqueue()
            self.stdout.write(f"queued task {result.id}")
            return
        self.stdout.write(f"{escalate_referrals()} escalation step(s) recorded")
