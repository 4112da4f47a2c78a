/**
 * The narrow bridge (style.md §2): `window.api.<group>.<name>(input)` for each
 * contract channel, nothing else. ipcRenderer itself is never exposed.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from '../../shared/ipc/channels';

contextBridge.exposeInMainWorld('api', buildApi((channel, input) => ipcRenderer.invoke(channel, input)));
