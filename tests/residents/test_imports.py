import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from residents.models import Building, House, ImportJob, Organisation, Person
from tests.residents.factories import id_number, make_person

HEAD = ["网格编码", "姓名", "身份证号", "联系电话", "性别", "人口类型", "民族", "户籍地址"]


def _xlsx(rows, head=HEAD) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(head)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("people.xlsx", out.getvalue())


def _csv(rows, head) -> SimpleUploadedFile:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(head)
    w.writerows(rows)
    return SimpleUploadedFile("houses.csv", out.getvalue().encode("utf-8-sig"))


def _good_rows(grid, n=3):
    return [
        [
            grid.code,
            f"导入{i}",
            id_number(seq=100 + i),
            f"1380000{i:04d}",
            "男",
            "户籍",
            "汉族",
            "武汉",
        ]
        for i in range(n)
    ]


def _upload(client, user, kind, file):
    client.force_login(user)
    response = client.post(reverse("residents:import_new"), {"kind": kind, "file": file})
    assert response.status_code == 302
    return ImportJob.objects.latest("pk")


def test_a_good_file_is_checked_then_written_all_at_once(client, people, city):
    job = _upload(client, people["station"], "people", _xlsx(_good_rows(city.grids[0])))
    assert job.state == "checked" and job.problems == [] and job.total_rows == 3
    assert not Person.objects.exists()
    page = client.get(reverse("residents:import_detail", args=[job.pk])).content.decode()
    assert "import-problems" not in page
    client.post(reverse("residents:import_detail", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "done" and job.written == 3
    assert Person.objects.count() == 3
    assert Person.objects.with_id_number(id_number(seq=101)).get().name == "导入1"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("bad_id", "GB 11643"),
        ("unknown_grid", "grid"),
        ("outside_scope", "grid"),
        ("duplicate_in_file", "twice"),
        ("duplicate_in_register", "already registered"),
        ("missing_name", "missing"),
    ],
)
def test_each_kind_of_problem_is_reported_and_nothing_written(
    client, people, city, breakage, expected, settings
):
    settings.LANGUAGE_CODE = "en"
    rows = _good_rows(city.grids[0], n=4)
    bad_rows = {3, 5}  # spreadsheet rows (header is row 1)
    for r in bad_rows:
        row = rows[r - 2]
        if breakage == "bad_id":
            row[2] = row[2][:17] + ("0" if row[2][17] != "0" else "1")
        elif breakage == "unknown_grid":
            row[0] = "999999999999999"
        elif breakage == "outside_scope":
            row[0] = city.grids[7].code
        elif breakage == "duplicate_in_file":
            row[2] = rows[0][2]
        elif breakage == "duplicate_in_register":
            make_person(grid=city.grids[0], number=row[2], name="已登记")
        elif breakage == "missing_name":
            row[1] = ""
    before = Person.objects.count()
    job = _upload(client, people["station"], "people", _xlsx(rows))
    assert [p["row"] for p in job.problems] == sorted(bad_rows)
    assert all(expected.lower() in " ".join(p["errors"]).lower() for p in job.problems)
    # The problem report never repeats the personal data.
    assert rows[1][2] not in str(job.problems)
    # Writing is refused, and nothing was written.
    client.post(reverse("residents:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert Person.objects.count() == before
    page = client.get(reverse("residents:import_detail", args=[job.pk])).content.decode()
    assert "import-problems" in page


def test_houses_from_csv_and_organisations(client, people, city):
    grid = city.grids[0]
    head = ["网格编码", "楼栋", "单元", "房号", "房屋用途", "产权人"]
    job = _upload(
        client,
        people["station"],
        "houses",
        _csv(
            [
                [grid.code, "1栋", "1", "101", "出租", "张"],
                [grid.code, "1栋", "1", "102", "自住", ""],
            ],
            head,
        ),
    )
    assert job.problems == []
    client.post(reverse("residents:import_detail", args=[job.pk]))
    assert House.objects.filter(use="rented").count() == 1
    assert Building.objects.get().houses.count() == 2
    job = _upload(
        client,
        people["station"],
        "organisations",
        _csv(
            [[grid.code, "平安网吧", "企业", "网吧", "13900001111"]],
            ["网格编码", "名称", "类别", "重点场所类别", "联系电话"],
        ),
    )
    client.post(reverse("residents:import_detail", args=[job.pk]))
    org = Organisation.objects.get()
    assert (
        org.is_key_place
        and org.phone_masked == "139****1111"
        and "13900001111" not in org.phone_enc
    )


def test_a_large_file_runs_in_celery_with_progress(
    client, people, city, settings, django_capture_on_commit_callbacks
):
    from residents import imports

    settings.CELERY_TASK_ALWAYS_EAGER = True
    imports_limit = imports.SYNC_ROWS
    imports.SYNC_ROWS = 5
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = _upload(
                client, people["station"], "people", _xlsx(_good_rows(city.grids[0], n=8))
            )
        job.refresh_from_db()
        assert job.state == "checked" and job.total_rows == 8
        status = client.get(reverse("residents:import_status", args=[job.pk])).json()
        assert status["percent"] == 100
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("residents:import_detail", args=[job.pk]))
        job.refresh_from_db()
        assert job.state == "done" and Person.objects.count() == 8
    finally:
        imports.SYNC_ROWS = imports_limit


def test_grid_workers_cannot_import(client, people, city):
    client.force_login(people["worker"])
    assert client.get(reverse("residents:import_new")).status_code == 403


def test_the_uploaded_ledger_is_stored_encrypted_and_deleted_after_use(client, people, city):
    import os

    rows = _good_rows(city.grids[0], n=2)
    job = _upload(client, people["station"], "people", _xlsx(rows))
    path = job.file.path
    assert os.path.exists(path)
    with open(path, "rb") as f:
        stored = f.read()
    assert rows[0][2].encode() not in stored and b"PK" not in stored[:4]
    client.post(reverse("residents:import_detail", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "done" and not job.file and not os.path.exists(path)
    # A file with problems is dropped at once: the corrected one is uploaded anew.
    rows[0][1] = ""
    bad = _upload(client, people["station"], "people", _xlsx(rows))
    assert bad.problems and not bad.file


def test_people_move_into_existing_houses_of_their_grid(client, people, city):
    from residents.models import Residence
    from tests.residents.factories import make_house

    house = make_house(grid=city.grids[0], room="302")
    head = [*HEAD, "楼栋", "单元", "房号", "居住关系"]
    good = _good_rows(city.grids[0], n=2)
    rows = [
        [*good[0], house.building.name, "", "302", "租户"],
        [*good[1], "", "", "", ""],
    ]
    job = _upload(client, people["station"], "people", _xlsx(rows, head=head))
    assert job.problems == []
    client.post(reverse("residents:import_detail", args=[job.pk]))
    residence = Residence.objects.get()
    assert residence.house == house and residence.relation == "tenant"
    assert residence.person.name == good[0][1]
    # A house that does not exist in that grid is a problem of its row.
    bad = [[*_good_rows(city.grids[0], n=1)[0], house.building.name, "", "999", ""]]
    bad[0][2] = id_number(seq=555)
    job = _upload(client, people["station"], "people", _xlsx(bad, head=head))
    assert [p["row"] for p in job.problems] == [2]
