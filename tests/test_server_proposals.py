"""Proposals and gap groups through a real server (issue 22 in the page's API): a job's no-match rows
grouped, a new code proposed for a group by name and class (from the page's origin only), then found
by lookup, the code's page (`/api/codes/新-…`), suggest, the proposals list and the gap groups; the
lookup's true count with paging."""
from urllib.parse import quote

import pytest

from server_proc import call, copy_bundled, running_server
from test_jobs import upload, wait_done

pytestmark = pytest.mark.usefixtures("shared_vector_cache")

DECLARATION = ("项目名称,三级指标,二级指标,年度指标值\n"
               "垃圾分类宣传,垃圾分类知晓率,22,≥90%\n"
               "垃圾分类宣传,居民垃圾分类知晓率,22,≥90%\n"
               "社区治理,居民垃圾分类知晓率,22,≥85%\n"
               "志愿服务,志愿者服务总时长,11,≥2000小时\n"
               "办事服务,办事群众满意度,31,≥95%\n")


def test_gap_groups_propose_and_find_the_proposal_everywhere(tmp_path):
    cat = copy_bundled(tmp_path)
    orig = tmp_path / "申报.csv"
    orig.write_text(DECLARATION, encoding="utf-8")
    with running_server("-c", str(cat), env={"INDICODE_JOBS": str(tmp_path / "jobs")}) as url:
        st, job = upload(url, orig)
        assert st == 202
        assert call(url, f"/api/jobs/{job['id']}/gaps")[0] in (200, 409)  # 409 while it is not done
        assert wait_done(url, job["id"])[0]["state"] == "done"
        st, gaps = call(url, f"/api/jobs/{job['id']}/gaps")
        assert st == 200, gaps
        waste = next(g for g in gaps["groups"] if "居民垃圾分类知晓率" in g["members"])
        assert set(waste["members"]) == {"垃圾分类知晓率", "居民垃圾分类知晓率"} and waste["rows"] == 3
        assert waste["level2"] == "22" and waste["unit"] == "%" and waste["projects"] == 2 and waste["proposals"] == []
        assert all("办事群众满意度" not in g["members"] for g in gaps["groups"])  # coded: no gap
        # the proposal routes write only as feedback does
        body = {"name": waste["name"], "class": waste["level2"], "unit": waste["unit"], "texts": waste["members"],
                "explanation": "居民对垃圾分类的知晓程度", "comment": "三个项目都用", "reviewer": "王芳",
                "origin": "page"}
        assert call(url, "/api/proposals", body=body, headers={"Origin": "http://evil.example"})[0] == 403
        assert call(url, "/api/proposals", body=body, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
        assert call(url, "/api/proposals", raw=b"name=x", headers={"Content-Type": "text/plain"})[0] == 415
        st, bad = call(url, "/api/proposals", body={**body, "class": "2"})
        assert st == 422 and bad["field"] == "class"  # a level-1 class is no class for a new code
        st, bad = call(url, "/api/proposals", body={**body, "class": ""})
        assert st == 422 and "level-2 class" in bad["error"]
        assert call(url, "/api/proposals", body={**body, "name": " "})[0] == 422
        assert call(url, "/api/proposals", body={**body, "texts": ["a\x00b"]})[0] == 422
        assert call(url, "/api/proposals")[1]["proposals"] == []  # nothing written by the refused ones
        st, made = call(url, "/api/proposals", body=body)
        assert st == 200, made
        p = made["proposal"]
        pid = p["code"]
        assert pid.startswith("新-") and pid.endswith("-22-0001") and p["status"] == "open" and p["unit"] == "%"
        assert p["label"] == f"已提议：{pid} {waste['name']}（待审批）" and p["reviewer"] == "王芳"
        assert set(p["texts"]) == {"垃圾分类知晓率", "居民垃圾分类知晓率"} and made["conflicts"] == []
        assert call(url, "/api/proposals", body=body)[1]["proposal"]["code"] == pid  # proposed again: reused
        # found by lookup (marked), by its page, by suggest, in the list and in the gap groups
        st, found = call(url, "/api/lookup", {"q": "垃圾分类知晓"})
        assert st == 200 and [x["code"] for x in found["proposed"]] == [pid] and found["proposed"][0]["proposed"]
        assert call(url, "/api/lookup", {"q": pid})[1]["proposed"][0]["code"] == pid
        st, page = call(url, "/api/codes/" + quote(pid))
        assert st == 200 and page["proposed"] is True and page["status_word"] == "待审批"
        assert page["explanation"] == "居民对垃圾分类的知晓程度"
        s = call(url, "/api/suggest", {"text": "居民垃圾分类知晓率", "class": "22"})[1]
        assert s["proposal"]["code"] == pid and s["proposal"]["how"] == "same-text" and s["code"] != pid
        close = call(url, "/api/suggest", {"text": "社区居民垃圾分类知晓率", "class": "22"})[1]
        assert close["proposal"] and close["proposal"]["code"] == pid
        listed = call(url, "/api/proposals", {"status": "open"})[1]["proposals"]
        assert [x["code"] for x in listed] == [pid] and call(url, "/api/proposals", {"status": "rejected"})[1] == {
            "proposals": []}
        assert call(url, "/api/proposals", {"q": "志愿"})[1]["proposals"] == []
        st, gaps = call(url, f"/api/jobs/{job['id']}/gaps")
        waste = next(g for g in gaps["groups"] if "居民垃圾分类知晓率" in g["members"])
        assert waste["proposals"] == [p["label"]]
        # the rows of the job now name it too (the decision in force points to it)
        rows = {r["indicator"]: r for r in call(url, f"/api/jobs/{job['id']}/rows")[1]["rows"]}
        assert rows["垃圾分类知晓率"]["decided"]["code"] == pid
        spec = call(url, "/openapi.json")[1]["paths"]
        assert {"200", "403", "409", "415", "422", "503"} <= set(spec["/api/proposals"]["post"]["responses"])
        assert {"404", "409"} <= set(spec["/api/jobs/{job_id}/gaps"]["get"]["responses"])


def test_lookup_says_the_true_count_and_pages(tmp_path):
    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat)) as url:
        st, one = call(url, "/api/lookup", {"q": "113", "limit": 20})
        assert st == 200 and one["total"] > 20 and len(one["results"]) == 20 and one["page"] == 1
        st, two = call(url, "/api/lookup", {"q": "113", "limit": 20, "page": 2})
        assert two["page"] == 2 and not {r["code"] for r in one["results"]} & {r["code"] for r in two["results"]}
        every = call(url, "/api/lookup", {"q": "113", "limit": 1000})[1]
        assert len(every["results"]) == one["total"] == every["total"]
        assert call(url, "/api/lookup", {"q": "113", "page": "0"})[0] == 422
        assert call(url, "/api/codes/" + quote("新-ABCD-22-0001"))[0] == 404
