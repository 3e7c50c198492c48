"""What a person does in the browser, as short helpers over Selenium: open a page, sign in, fill a form, wait
for a text, take a screenshot of the whole page."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import PASSWORD

WIDTH = 1280


class Browser:
    def __init__(self, driver, base_url: str, screenshots: Path):
        self.driver, self.base_url, self.screenshots = driver, base_url, screenshots
        self.visited: list[str] = []       # every URL the browser was on: checked for personal data

    @classmethod
    def start(cls, chromium: str, chromedriver: str, base_url: str, screenshots: Path) -> "Browser":
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={WIDTH},900", "--lang=zh-CN"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        driver.set_page_load_timeout(60)
        return cls(driver, base_url, screenshots)

    def quit(self) -> None:
        self.driver.quit()

    # --- looking ------------------------------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self._note()

    def _note(self) -> None:
        url = urlparse(self.driver.current_url)
        self.visited.append(url.path + ("?" + url.query if url.query else ""))

    @property
    def path(self) -> str:
        return urlparse(self.driver.current_url).path

    def text(self, css: str = "main") -> str:
        return self._read(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    def all_text(self, css: str) -> list[str]:
        return self._read(lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)])

    def _read(self, read, timeout: float = 30):
        """``read()`` on the current document. An upload's page reloads itself every 2 s until its cascade settles:
        the document can be replaced between finding an element and reading its text (Selenium: stale element).
        Then the element is found again, in the new document; anything else (no such element) fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return read()
            except StaleElementReferenceException:
                if time.monotonic() > deadline:
                    raise

    def wait_for_text(self, text: str, css: str = "main", timeout: float = 60) -> None:
        # The element may be missing (the next page is loading) or stale (the page reloaded itself) on the way.
        WebDriverWait(self.driver, timeout, poll_frequency=0.5,
                      ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
            lambda d: text in d.find_element(By.CSS_SELECTOR, css).text,
            message=f"{text!r} never appeared in {css}")
        self._note()

    def screenshot(self, name: str) -> Path:
        """The whole page (the window grown to its height), once its fonts have loaded."""
        driver = self.driver
        driver.execute_async_script("const done = arguments[0]; document.fonts.ready.then(() => done(true));")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WIDTH, min(max(height + 140, 700), 4000))
        path = self.screenshots / f"{name}.png"
        driver.save_screenshot(str(path))
        driver.set_window_size(WIDTH, 900)
        return path

    # --- doing --------------------------------------------------------------------------------------------------

    def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            field = self.driver.find_element(By.NAME, name)
            if field.tag_name == "select":
                field.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
            elif field.get_attribute("type") == "date":
                # A date input takes the keys of the browser's locale: set it as the form would send it.
                self.driver.execute_script("arguments[0].value = arguments[1]", field, value)
            else:
                field.clear()
                field.send_keys(value)

    def _navigate(self, element) -> None:
        """Click, and return once the next page has replaced this one (a form post may take seconds)."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, 120).until(staleness_of(page), message="the page never changed")
        WebDriverWait(self.driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
        self._note()

    def press(self, element) -> None:
        """Click a button or link found by the test, and wait for the page it leads to."""
        self._navigate(element)

    def submit(self, css: str = "main form button.primary") -> None:
        self._navigate(self.driver.find_element(By.CSS_SELECTOR, css))

    def click_link(self, text: str) -> None:
        self._navigate(self.driver.find_element(By.LINK_TEXT, text))

    def sign_in(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/login")
        self.fill({"username": username, "password": PASSWORD})
        self.submit()

    def sign_out(self) -> None:
        self._navigate(self.driver.find_element(By.CSS_SELECTOR, "header form button"))
