import { describe, expect, it } from 'vitest';
import { rejectReason, type IpcSenderInfo, type TrustedWindow } from '../main/ipc/sender-check.ts';

const trusted: TrustedWindow = { webContentsId: 3, pageUrl: 'file:///app/out/renderer/index.html' };
const own: IpcSenderInfo = { webContentsId: 3, frameUrl: 'file:///app/out/renderer/index.html', isMainFrame: true };

describe('IPC sender check', () => {
  it('accepts the app window', () => {
    expect(rejectReason(own, trusted)).toBeNull();
  });

  it('ignores query and hash of the page', () => {
    expect(rejectReason({ ...own, frameUrl: `${own.frameUrl}?x=1#charts` }, trusted)).toBeNull();
  });

  it('rejects another webContents', () => {
    expect(rejectReason({ ...own, webContentsId: 4 }, trusted)).toContain('not the app window');
  });

  it('rejects an iframe', () => {
    expect(rejectReason({ ...own, isMainFrame: false }, trusted)).toContain('not the top frame');
  });

  it('rejects a page that navigated away', () => {
    expect(rejectReason({ ...own, frameUrl: 'https://example.com/' }, trusted)).toContain('foreign page');
  });

  it('rejects another local file', () => {
    expect(rejectReason({ ...own, frameUrl: 'file:///tmp/evil.html' }, trusted)).toContain('foreign page');
  });

  it('rejects a destroyed frame', () => {
    expect(rejectReason({ ...own, frameUrl: null }, trusted)).toContain('gone');
  });
});
