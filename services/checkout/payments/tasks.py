from celery import shared_task

from payments.retention import webhook_payloads_scrub as _webhook_payloads_scrub


@shared_task(name="payments.webhook_payloads_scrub", time_limit=600, soft_time_limit=570)
def webhook_payloads_scrub() -> int:
    return _webhook_payloads_scrub()
