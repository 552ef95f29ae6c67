from clipcart_shared.celery import celery_app

app = celery_app("checkout")
