#!/usr/bin/python3
"""Drive the agent's web page in headless Chromium (Debian's chromium and
chromium-driver, through python3-selenium).

Logs in with HTTP Basic, checks that the page shows the endpoint and the
tag, writes a screenshot, downloads the CA as .cer, switches to Portuguese,
deletes the tag through the page's confirmation dialog, and starts garbage
collection with its button.  Exits 1 with a
message on the first failed check.
"""
import argparse
import base64
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT_SEC = 20


def fail(message):
    print("browser: " + message)
    sys.exit(1)


def start_browser(out_dir, user_data_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1700", "--user-data-dir=" + user_data_dir):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": os.path.join(out_dir, "downloads"),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def log_in(driver, args, out_dir):
    # Headless Chromium cannot answer the login prompt, so the test sends the
    # Basic header that the browser would send after it on each request.
    token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                           {"headers": {"Authorization": "Basic " + token,
                                        "Accept-Language": "en-US,en;q=0.9"}})
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow",
                            "downloadPath": os.path.join(out_dir, "downloads")})
    driver.get(args.url)


def wait_text(driver, element_id, expected):
    WebDriverWait(driver, TIMEOUT_SEC).until(
        EC.text_to_be_present_in_element((By.ID, element_id), expected))


def tag_row(driver, repository, tag):
    rows = driver.find_elements(
        By.CSS_SELECTOR, f'#repositories tbody tr[data-repository="{repository}"][data-tag="{tag}"]')
    return rows[0] if rows else None


def check_download(out_dir):
    folder = os.path.join(out_dir, "downloads")
    for _ in range(TIMEOUT_SEC * 10):
        names = [n for n in os.listdir(folder) if n.endswith(".cer")] if os.path.isdir(folder) else []
        if names:
            print("browser: downloaded " + names[0])
            return
        time.sleep(0.1)
    fail("no .cer file appeared in " + folder)


def main():
    parser = argparse.ArgumentParser()
    for name in ("url", "user", "password", "endpoint", "repository", "tag", "out"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="edgecr-chromium-") as profile:
        driver = start_browser(args.out, profile)
        try:
            log_in(driver, args, args.out)
            try:
                wait_text(driver, "endpoint", args.endpoint)
            except Exception:
                fail("the page did not show endpoint " + args.endpoint)
            print("browser: the page shows " + args.endpoint)
            WebDriverWait(driver, TIMEOUT_SEC).until(lambda d: tag_row(d, args.repository, args.tag))
            driver.save_screenshot(os.path.join(args.out, "page.png"))

            driver.find_element(By.ID, "ca-cer").click()
            check_download(args.out)

            driver.find_element(By.ID, "lang-pt").click()
            wait_text(driver, "refresh", "Atualizar")
            print("browser: the switch shows Portuguese")
            driver.save_screenshot(os.path.join(args.out, "page-pt.png"))

            tag_row(driver, args.repository, args.tag).find_element(By.CSS_SELECTOR, "button.delete").click()
            WebDriverWait(driver, TIMEOUT_SEC).until(EC.alert_is_present())
            driver.switch_to.alert.accept()
            WebDriverWait(driver, TIMEOUT_SEC).until(
                lambda d: tag_row(d, args.repository, args.tag) is None)
            wait_text(driver, "message", args.tag)
            print(f"browser: deleted {args.repository}:{args.tag} from the page")

            # The page is in Portuguese now; the result names the freed bytes.
            driver.find_element(By.ID, "gc-now").click()
            wait_text(driver, "message", "A recolha de lixo removeu")
            wait_text(driver, "last-gc", "libertados")
            print("browser: the button ran garbage collection: "
                  + driver.find_element(By.ID, "last-gc").text)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
