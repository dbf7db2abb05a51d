/**
 * Signing keys in the browser, written once for every page that signs (the workstation, the
 * evidence demands): an encrypted JSON keystore (the format `dutyproof unit keygen` writes) is
 * opened here; the password and the key never leave this page, and the key is kept in the
 * page's state in memory only.
 */
import { type Child, h, readFileBytes } from "./dom.ts";
import { t } from "./i18n.ts";
import { SM_KEYSTORE_FORMAT, openSmKeystore } from "../../server/core/smKeystore.ts";
import { SUITE_SM2, smSign } from "../../server/core/smSuite.ts";

export interface UnlockedKey {
  /** The address, or for an SM2 key its key id (the registry's signer slot). */
  address: string;
  /** Signs a 32-byte digest; returns r ‖ s ‖ v (65 bytes, low s) as 0x hex. Not for an SM2 key. */
  sign: (digest: Uint8Array) => string;
  /** Set for an SM2 key (an SM keystore): records are of the 国密 suite. */
  suite?: typeof SUITE_SM2;
  /** An SM2 key's signature value X ‖ Y ‖ r ‖ s of the suite's signed bytes, as 0x hex. */
  signSm?: (signedBytes: Uint8Array) => string;
}

/**
 * Decrypts `file` with `password` (scrypt, or for an SM keystore PBKDF2-HMAC-SM3; a few seconds);
 * `progress` gets 0..1.
 */
export async function unlockKeystore(
  file: File,
  password: string,
  progress: (fraction: number) => void,
): Promise<UnlockedKey> {
  const json = new TextDecoder().decode(await readFileBytes(file));
  const parsed: unknown = JSON.parse(json);
  if ((parsed as { format?: unknown })?.format === SM_KEYSTORE_FORMAT) {
    // PBKDF2-HMAC-SM3 and SM4 in JavaScript: yield now and then so the progress bar moves.
    const { privateKey, keyId } = await openSmKeystore(parsed, password, async (fraction) => {
      progress(fraction);
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
    return {
      address: keyId,
      suite: SUITE_SM2,
      sign: () => {
        throw new Error("an SM2 key signs duty records only");
      },
      signSm: (signedBytes) => smSign(signedBytes, privateKey),
    };
  }
  const { Wallet } = await import("ethers");
  const wallet = await Wallet.fromEncryptedJson(json, password, progress);
  return { address: wallet.address, sign: (digest) => wallet.signingKey.sign(digest).serialized };
}

/** A page's signing key: locked, being unlocked, or unlocked. */
export interface KeySlot {
  key: UnlockedKey | null;
  file: File | null;
  /** 0..1 while decrypting, 0 otherwise. */
  unlocking: number;
  error: string;
}

export function emptyKeySlot(): KeySlot {
  return { key: null, file: null, unlocking: 0, error: "" };
}

export interface KeyPanelOptions {
  /** Element ids are `<prefix>-keystore`, `<prefix>-password`, `<prefix>-unlock`, `<prefix>-unlock-progress`. */
  prefix: string;
  /** The label of the keystore file input. */
  keystoreLabel: string;
  /** Fields the page asks for with the key (the unit, the department), shown before it. */
  fields: Child;
  /** Who the key signs for, shown once unlocked. */
  holder: () => Child;
  /** A message when the page's own fields are not ready to unlock, else "". */
  check: () => string;
  /** Called after a successful unlock. */
  onUnlocked?: () => void;
  rerender: () => void;
}

async function unlock(slot: KeySlot, password: string, options: KeyPanelOptions): Promise<void> {
  slot.error = options.check() || (slot.file ? "" : t("ws.needKeystore"));
  if (slot.error) return options.rerender();
  slot.unlocking = 0.01;
  options.rerender();
  try {
    slot.key = await unlockKeystore(slot.file!, password, (progress) => {
      slot.unlocking = Math.max(0.01, progress);
      const bar = document.getElementById(`${options.prefix}-unlock-progress`) as HTMLProgressElement | null;
      if (bar) bar.value = slot.unlocking;
    });
    options.onUnlocked?.();
  } catch {
    slot.error = t("ws.badKeystore");
  } finally {
    slot.unlocking = 0;
    options.rerender();
  }
}

/** The unlock form, or the unlocked key with its holder and a lock button. */
export function keyPanel(slot: KeySlot, options: KeyPanelOptions): Child {
  const { prefix } = options;
  if (slot.key) {
    return h(
      "div",
      { class: "unlocked" },
      h("span", { class: "badge badge-ok" }, "✓"),
      h(
        "div",
        { class: "unlocked-text" },
        h("strong", { class: "unit-name" }, options.holder()),
        h("div", null, t("ws.unlocked", { address: slot.key.address })),
      ),
      h(
        "button",
        {
          type: "button",
          class: "button button-secondary",
          onclick: () => {
            slot.key = null;
            options.rerender();
          },
        },
        t("ws.lock"),
      ),
    );
  }
  const busy = slot.unlocking > 0;
  const password = h("input", { type: "password", id: `${prefix}-password`, autocomplete: "off", disabled: busy });
  return h(
    "form",
    {
      class: "form-grid",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void unlock(slot, password.value, options);
      },
    },
    options.fields,
    h(
      "div",
      { class: "field" },
      h("label", { for: `${prefix}-keystore` }, options.keystoreLabel),
      h("input", {
        id: `${prefix}-keystore`,
        type: "file",
        accept: ".json,application/json",
        onchange: (e: Event) => (slot.file = (e.target as HTMLInputElement).files?.[0] ?? null),
      }),
      slot.file ? h("p", { class: "hint" }, slot.file.name) : null,
    ),
    h("div", { class: "field" }, h("label", { for: `${prefix}-password` }, t("ws.password")), password),
    h(
      "div",
      { class: "field field-actions" },
      h("button", { type: "submit", class: "button", id: `${prefix}-unlock`, disabled: busy }, t("ws.unlock")),
      busy
        ? h(
            "span",
            { class: "progress-line" },
            h("progress", { id: `${prefix}-unlock-progress`, max: "1", value: slot.unlocking }),
            t("ws.unlocking"),
          )
        : null,
      slot.error ? h("p", { class: "error-text", role: "alert" }, slot.error) : null,
    ),
  );
}
