"""The users of ``bench_load.py``: each signs in as the admin of an organisation of its own
and mixes what people do on innonet. Run by bench_load.py (``locust --headless``); the
accounts come from the JSON file named by INNONET_LOAD_USERS; every answer's time and every
write the server acknowledged are written to INNONET_LOAD_RESULTS when the run ends."""

import json
import os
import random
from itertools import count

from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(open(os.environ["INNONET_LOAD_USERS"]).read())
KINDS = ("supplier", "customer", "research_partner", "consultant", "distributor")
NEEDS = ("hydrogen fuel cells", "bio-based packaging", "battery recycling", "precision farming",
         "quantum sensors", "offshore wind maintenance")
_next_account = count()
acknowledged: list[tuple[str, str, str]] = []
shared: list[tuple[int, str]] = []
timings: list[tuple[str, float, int]] = []  # (name, milliseconds, status)


class Member(HttpUser):
    # A person reads a page before the next action.
    wait_time = between(1, 3)

    def on_start(self):
        self.account = ACCOUNTS["users"][next(_next_account) % len(ACCOUNTS["users"])]
        self.org = self.account["org"]
        self.random = random.Random(self.org)
        partners = ACCOUNTS["organisations"]
        self.ties = [(p, k) for p in self.random.sample(partners, 60) for k in KINDS if p != self.org]
        self.random.shuffle(self.ties)
        self.mine: list[int] = []
        self.api = {"Authorization": f"Bearer {self.account['token']}"}
        self._sign_in()

    def _sign_in(self):
        with self.client.post("/login", data={"email": self.account["email"],
                                              "password": ACCOUNTS["password"],
                                              "csrf_token": self._csrf()},
                              name="sign in", allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 303:
                answer.failure(f"sign-in answered {answer.status_code}")

    def _csrf(self) -> str:
        if "innonet_csrf" not in self.client.cookies:
            self.client.get("/login", name="page /login")
        return self.client.cookies["innonet_csrf"]

    @task(6)
    def directory(self):
        self.client.get(f"/orgs?q={self.random.choice(('energy', 'univ', 'gmbh', 'tech', '9'))}",
                        name="page /orgs")

    @task(6)
    def organisation(self):
        self.client.get(f"/orgs/{self.random.choice(ACCOUNTS['organisations'])}",
                        name="page /orgs/{id}")

    @task(4)
    def diagnosis(self):
        self.client.get(f"/orgs/{self.org}/diagnosis", name="page /orgs/{id}/diagnosis")

    @task(3)
    def recommendations(self):
        self.client.get(f"/api/v1/orgs/{self.org}/recommendations",
                        params={"need": self.random.choice(NEEDS), "k": 10}, headers=self.api,
                        name="api recommendations")

    @task(3)
    def record_relationship(self):
        if not self.ties:
            return
        partner, kind = self.ties.pop()
        with self.client.post(f"/orgs/{self.org}/relationships/new", name="form relationship",
                              data={"csrf_token": self._csrf(), "partner": partner, "kind": kind,
                                    "notes": "load"},
                              allow_redirects=False, catch_response=True) as answer:
            if answer.status_code == 303:
                acknowledged.append((self.org, partner, kind))
            else:
                answer.failure(f"answered {answer.status_code}")

    @task(2)
    def share_relationship(self):
        if not self.ties:
            return
        partner, kind = self.ties.pop()
        created = self.client.post("/api/v1/relationships", headers=self.api, name="api relationship",
                                   json={"organisation": self.org, "partner": partner, "kind": kind})
        if created.status_code != 201:
            return
        acknowledged.append((self.org, partner, kind))
        relationship = created.json()["id"]
        with self.client.patch(f"/api/v1/relationships/{relationship}", headers=self.api,
                               name="api share relationship", catch_response=True,
                               json={"visibility": "partners", "shared_with": [partner]}) as answer:
            if answer.status_code == 200:
                shared.append((relationship, partner))
            else:
                answer.failure(f"answered {answer.status_code}")

    @task(1)
    def sign_in_again(self):
        self.client.post("/logout", data={"csrf_token": self._csrf()}, name="sign out",
                         allow_redirects=False)
        self._sign_in()


@events.request.add_listener
def _time(name, response_time, response=None, exception=None, **_):
    timings.append((name, response_time, getattr(response, "status_code", 0) if exception is None
                    or response is not None else 0))


@events.quitting.add_listener
def _write_results(environment, **_):
    with open(os.environ["INNONET_LOAD_RESULTS"], "w") as out:
        json.dump({"relationships": acknowledged, "shared": shared, "timings": timings}, out)
