// A short device name from a User-Agent, for the session table ("Chrome 131 on Linux").

const BROWSERS = [
  ["Edge", /Edg\/(\d+)/],
  ["Firefox", /Firefox\/(\d+)/],
  ["Chrome", /(?:HeadlessChrome|Chrome|Chromium)\/(\d+)/],
  ["Safari", /Version\/(\d+)[\d.]* .*Safari\//],
];
const SYSTEMS = [
  ["Android", /Android/],
  ["iOS", /iPhone|iPad/],
  ["Windows", /Windows/],
  ["macOS", /Mac OS X/],
  ["Linux", /Linux/],
];

export function describeDevice(userAgent = "") {
  const browser = BROWSERS.find(([, pattern]) => pattern.test(userAgent));
  const system = SYSTEMS.find(([, pattern]) => pattern.test(userAgent));
  if (!browser) return userAgent.slice(0, 40) || "unknown";
  const version = userAgent.match(browser[1])[1];
  return `${browser[0]} ${version}${system ? ` on ${system[0]}` : ""}`;
}
