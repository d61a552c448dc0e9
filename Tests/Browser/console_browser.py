#!/usr/bin/python3
"""Drives the web console in a real headless Chromium (Debian's chromium,
chromium-driver, python3-selenium), for ConsoleBrowserTests: logs in as a
viewer and as an operator, reads the overview, retries a failed job and
pauses a queue through the forms, and tries two forbidden POSTs (a
viewer's action, an operator's without the CSRF token) with the browser's
own cookie. Prints what it saw as one JSON object; the Swift test checks
it against the database. Everything comes from the environment:
CONSOLE_URL, CONSOLE_PASSWORD, VIEWER_LOGIN, OPERATOR_LOGIN, FAILED_JOB,
QUEUE, SCREENSHOT (a PNG path for the overview, 1280 px wide), and
optionally PHONE_SCREENSHOT (the jobs page at 390 px)."""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL = os.environ["CONSOLE_URL"].rstrip("/")
PASSWORD = os.environ["CONSOLE_PASSWORD"]
FAILED_JOB = os.environ["FAILED_JOB"]
QUEUE = os.environ["QUEUE"]


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=zh-CN", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # A form's click returns before the next page has loaded: each look-up waits for its element.
    driver.implicitly_wait(10)
    return driver


def count(driver, selector):
    """How many elements match on the page as loaded now (no waiting for more)."""
    driver.implicitly_wait(0)
    try:
        return len(driver.find_elements(By.CSS_SELECTOR, selector))
    finally:
        driver.implicitly_wait(10)


def log_in(driver, login):
    driver.delete_all_cookies()
    driver.get(URL + "/login")
    driver.find_element(By.NAME, "login").send_keys(login)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "log-in").click()


def post(driver, path, fields):
    """A POST outside the forms, with the browser's session cookie: the status code."""
    cookie = driver.get_cookie("timebank_console")
    request = urllib.request.Request(URL + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                     headers={"Cookie": "timebank_console=" + (cookie["value"] if cookie else "")})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def csrf(driver):
    return driver.find_element(By.CSS_SELECTOR, "form.session input[name=csrf]").get_attribute("value")


def main():
    seen = {}
    driver = browser()
    try:
        # A viewer: the overview's figures, no action forms, a refused action.
        log_in(driver, os.environ["VIEWER_LOGIN"])
        seen["viewer_title"] = driver.title
        seen["viewer_waiting"] = driver.find_element(By.CSS_SELECTOR, f"[data-waiting='{QUEUE}']").text
        seen["viewer_total_waiting"] = driver.find_element(By.ID, "total-waiting").text
        cookie = driver.get_cookie("timebank_console")
        seen["cookie_http_only"] = cookie["httpOnly"]
        seen["cookie_same_site"] = cookie.get("sameSite")
        seen["cookie_visible_to_script"] = "timebank_console" in driver.execute_script("return document.cookie")
        driver.get(URL + "/jobs?state=discarded")
        seen["viewer_job_listed"] = len(driver.find_elements(By.CSS_SELECTOR, f"a[href='/jobs/{FAILED_JOB}']"))
        seen["viewer_retry_buttons"] = count(driver, f"form[action='/jobs/{FAILED_JOB}/retry']")
        seen["viewer_post_status"] = post(driver, f"/jobs/{FAILED_JOB}/retry", {"csrf": csrf(driver), "back": "/jobs"})
        driver.find_element(By.CSS_SELECTOR, "form.session button").click()
        seen["after_logout_url"] = driver.current_url
        driver.get(URL + "/")
        seen["after_logout_overview_url"] = driver.current_url

        # A wrong password: the log-in page again, with a 401's message.
        driver.get(URL + "/login")
        driver.find_element(By.NAME, "login").send_keys(os.environ["OPERATOR_LOGIN"])
        driver.find_element(By.NAME, "password").send_keys("not the password")
        driver.find_element(By.ID, "log-in").click()
        seen["wrong_password_message"] = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text

        # An operator: the overview (the screenshot), a job's errors, retry, pause.
        log_in(driver, os.environ["OPERATOR_LOGIN"])
        seen["operator_waiting"] = driver.find_element(By.CSS_SELECTOR, f"[data-waiting='{QUEUE}']").text
        height = driver.execute_script("return document.documentElement.scrollHeight")
        # The window is its viewport plus the browser's own frame (about 140 px headless).
        driver.set_window_size(1280, max(700, min(height + 180, 2200)))
        driver.save_screenshot(os.environ["SCREENSHOT"])
        seen["screenshot_width"] = driver.execute_script("return window.innerWidth")
        driver.get(URL + f"/jobs/{FAILED_JOB}")
        seen["job_errors"] = driver.find_element(By.ID, "job-errors").text
        driver.get(URL + "/jobs?state=discarded")
        driver.find_element(By.CSS_SELECTOR, f"form[action='/jobs/{FAILED_JOB}/retry'] button").click()
        seen["retry_notice"] = driver.find_element(By.CSS_SELECTOR, ".notice").text
        driver.get(URL + "/queues")
        driver.find_element(By.CSS_SELECTOR, f"form[action='/queues/{QUEUE}/pause'] button").click()
        seen["pause_notice"] = driver.find_element(By.CSS_SELECTOR, ".notice").text
        seen["queue_shown_paused"] = len(driver.find_elements(By.CSS_SELECTOR, f"[data-paused='{QUEUE}']"))
        seen["no_csrf_post_status"] = post(driver, f"/queues/{QUEUE}/resume", {"back": "/queues"})
        seen["wrong_csrf_post_status"] = post(driver, f"/queues/{QUEUE}/resume", {"csrf": "0" * 64, "back": "/queues"})

        # A phone's width: the same overview, one column.
        driver.set_window_size(390, 844)
        driver.get(URL + "/")
        seen["phone_scroll_width"] = driver.execute_script("return document.documentElement.scrollWidth")
        if os.environ.get("PHONE_SCREENSHOT"):  # for a look by hand: the jobs page at a phone's width
            driver.get(URL + "/jobs")
            driver.save_screenshot(os.environ["PHONE_SCREENSHOT"])
    finally:
        driver.quit()
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
