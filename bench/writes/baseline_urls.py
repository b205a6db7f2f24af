"""The bare endpoint the writes benchmark compares with: whatever the path, one row inserted
in one transaction into the platform's database (its table is made by bench/writes/run.py)."""

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_writes_baseline"


@csrf_exempt
def insert_one_row(request: HttpRequest) -> JsonResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s)", [request.body.decode()])
    return JsonResponse({"created": True}, status=201)


urlpatterns = [re_path(r"", insert_one_row)]
