import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, headless, with nothing that reaches outside the machine. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browser of the lane console and central command browser tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens url and logs in through the form both web UIs share (user, password, submit). */
export async function submitLogIn(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}
