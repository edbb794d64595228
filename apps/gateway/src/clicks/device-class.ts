/** A coarse device class from a User-Agent, used when the click does not state one. */
export function deviceClass(userAgent: string | undefined): 'mobile' | 'tablet' | 'desktop' | 'other' | null {
  if (!userAgent) return null;
  const ua = userAgent.slice(0, 512);
  if (/iPad|Tablet|PlayBook|Silk|Kindle|(Android(?!.*Mobile))/i.test(ua)) return 'tablet';
  if (/Mobi|iPhone|iPod|Android|Windows Phone|BlackBerry|Opera Mini/i.test(ua)) return 'mobile';
  if (/Windows NT|Macintosh|X11|Linux x86_64|CrOS/i.test(ua)) return 'desktop';
  return 'other';
}
