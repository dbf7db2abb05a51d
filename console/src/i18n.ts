/**
 * The console's two languages: Simplified Chinese by default, English on request (kept in
 * localStorage). Each message is [zh-CN, en]; `{name}` placeholders are filled by `t`.
 * Verification reasons are not here: they come from server/core/verifier.ts, as in the CLI.
 */
import { type FieldDefinition, valueTitleOf } from "../../server/core/dutyType.ts";

export type Language = "zh-CN" | "en";

const messages = {
  "app.title": ["履职存证链", "dutyproof"],
  "app.subtitle": ["基层履职存证与核验", "Duty attestation ledger"],
  "app.skip": ["跳到主要内容", "Skip to main content"],
  "app.language": ["English", "中文"],
  "app.languageLabel": ["切换到英文", "Switch to Chinese"],
  "nav.verify": ["核验", "Verify"],
  "nav.workstation": ["填报", "Workstation"],
  "nav.timeline": ["履职记录", "Unit timeline"],
  "nav.demands": ["调阅", "Evidence demands"],
  "nav.dashboard": ["减负看板", "Burden dashboard"],
  "nav.requests": ["负担请求", "Burden requests"],
  "nav.chain": ["链状态", "Chain status"],
  "health.ok": ["网关与区块链运行正常", "Gateway and chain are up"],
  "health.gatewayDown": [
    "无法连接网关：请检查网络或联系运维人员。已打开的页面和本地核验不受影响。",
    "The gateway does not answer: check the network or call the operator. Pages already open keep working.",
  ],
  "health.chainDown": [
    "区块链节点无响应：可以提交记录，但暂时无法锚定或核验。",
    "The chain node does not answer: records are still accepted, but cannot be anchored or verified for now.",
  ],
  "health.draining": ["网关正在停止服务。", "The gateway is shutting down."],
  "health.gateway": ["网关", "Gateway"],
  "health.chain": ["区块链", "Chain"],
  "error.gatewayDown": ["无法连接网关，请稍后重试。", "The gateway does not answer; try again later."],
  "error.chainDown": [
    "区块链节点无响应，暂时无法核验，请稍后重试。",
    "The chain node does not answer; verification is not possible right now.",
  ],
  "error.unexpected": ["出现意外错误：{detail}", "Something went wrong: {detail}"],
  "problem.request.unauthorized": ["需要访问令牌。", "An access token is required."],
  "problem.request.forbidden": ["该令牌无权查看此单位的记录。", "This token may not read that unit's records."],
  "problem.record.unknown_unit": ["该单位未在账本上登记。", "The unit is not registered on the ledger."],
  "problem.record.unit_suspended": ["该单位已被暂停。", "The unit is suspended."],
  "problem.record.signer_not_authorized": [
    "此密钥不是该单位当前的有效签名密钥。请确认单位与密钥文件是否对应。",
    "This key is not the unit's valid signing key. Check that the unit and the keystore belong together.",
  ],
  "problem.record.invalid_fields": ["填报内容不符合该履职类型的要求。", "The fields do not fit the duty type."],
  "problem.record.not_canonical": [
    "记录含有无法规范化的文本（孤立的 UTF-16 代理字符），请修正后重新签名提交。",
    "The record holds text with no canonical form (a lone UTF-16 surrogate); correct it, sign again and resubmit.",
  ],
  "problem.record.duty_type_not_applicable": [
    "该履职类型不适用于此单位的层级。",
    "This duty type does not apply to the unit's level.",
  ],
  "problem.record.duty_type_inactive": ["该履职类型已停用。", "This duty type is no longer active."],
  "problem.record.time_implausible": [
    "履职时间不合理（在未来或过于久远）。",
    "The time performed is in the future or too far in the past.",
  ],
  "problem.record.bad_signature": ["签名格式无效。", "The signature is malformed."],
  "problem.record.wrong_log": [
    "该记录是为另一个日志（另一网关）签署的，本网关不予接收。",
    "The record was signed for another log (another gateway); this gateway does not take it.",
  ],
  "problem.record.version_retired": [
    "记录格式版本 1 已停止接收，请更新客户端后按版本 2 重新签署。",
    "Record envelope version 1 is no longer accepted; update the client and sign version 2.",
  ],
  "problem.demand.wrong_log": [
    "该调阅请求是为另一个日志（另一网关）签署的，本网关不予接收。",
    "The demand was signed for another log (another gateway); this gateway does not take it.",
  ],
  "problem.demand.version_retired": [
    "调阅请求格式版本 1 已停止接收，请按版本 2 重新签署。",
    "Demand envelope version 1 is no longer accepted; sign version 2.",
  ],
  "problem.request.invalid": ["请求内容有误。", "The request is invalid."],
  "problem.demand.not_entitled": [
    "所调阅的事项不属于本部门，也未经授权调阅，已拒绝。",
    "Refused: a duty type asked is neither your department's nor granted to it.",
  ],

  "common.colon": ["：", ": "],
  "common.listSeparator": ["；", "; "],
  "common.loading": ["正在加载…", "Loading…"],
  "common.retry": ["重试", "Retry"],
  "common.download": ["下载", "Download"],
  "common.none": ["无", "none"],
  "common.yes": ["是", "yes"],
  "common.no": ["否", "no"],
  "common.all": ["全部", "All"],
  "common.search": ["查询", "Search"],
  "common.personal": ["个人信息", "personal"],
  "common.required": ["必填", "required"],
  "common.updated": ["更新于 {time}", "Updated {time}"],

  "verify.title": ["核验履职记录", "Verify a duty record"],
  "verify.intro": [
    "拖入记录、回执或导出包文件，或粘贴哈希、记录编号。文件只在本机浏览器中计算和核验，不会上传；仅向网关查询链上事实。",
    "Drop a record, receipt or export bundle, or paste a hash or record id. Files are hashed and checked in this browser and never uploaded; only the chain's facts are asked of the gateway.",
  ],
  "verify.drop": ["将文件拖到这里，或", "Drop a file here, or"],
  "verify.choose": ["选择文件", "choose a file"],
  "verify.dropHint": [
    "支持 JSON：回执、记录加回执、导出包",
    "JSON: a receipt, a record with its receipt, an export bundle",
  ],
  "verify.pasteLabel": ["或粘贴哈希 / 记录编号 / 回执 JSON", "Or paste a hash, record id or receipt JSON"],
  "verify.pastePlaceholder": ["0x 开头的 64 位十六进制，或 JSON 内容", "0x and 64 hex digits, or JSON"],
  "verify.submit": ["核验", "Verify"],
  "verify.working": ["正在核验…", "Verifying…"],
  "verify.valid": ["有效", "VALID"],
  "verify.invalid": ["无效", "INVALID"],
  "verify.notFound": ["未找到", "NOT FOUND"],
  "verify.pending": ["尚未锚定", "NOT ANCHORED YET"],
  "verify.validDetail": [
    "记录存在、未被改动，由该单位当时的有效密钥签名，并已锚定在链上。",
    "The record exists unchanged, was signed by the unit's valid key at the time, and is anchored on chain.",
  ],
  "verify.validReceiptOnly": [
    "回执有效并已锚定在链上（未提供记录内容，仅核验回执）。",
    "The receipt is valid and anchored on chain (no record content given: receipt only).",
  ],
  "verify.notFoundDetail": ["此网关的日志中没有这个哈希。", "This gateway's log has no such hash."],
  "verify.pendingDetail": [
    "网关已接收该记录（叶子序号 {leaf}），尚未锚定上链，请稍后再核验。",
    "The gateway accepted the record (leaf {leaf}); it is not anchored yet. Verify again shortly.",
  ],
  "verify.bundleValid": [
    "导出包中 {count} 条记录全部核验通过（另有 {pending} 条尚未锚定）",
    "All {count} records of the bundle verify ({pending} more not anchored yet)",
  ],
  "verify.bundleInvalid": ["{count} 条记录中 {failed} 条未通过核验", "{failed} of {count} records fail"],
  "verify.bundleEmpty": ["导出包中没有已锚定的记录。", "The bundle holds no anchored record."],
  "verify.unreadable": [
    "无法识别：这不是 dutyproof 的回执、记录或导出包。",
    "Not recognised: this is not a dutyproof receipt, record or bundle.",
  ],
  "verify.notJson": ["文件不是有效的 JSON。", "The file is not valid JSON."],
  "verify.leafOnly": [
    "这是叶子哈希：网关只告知叶子 {leafIndex} 已锚定在规模 {treeSize} 的检查点中。核验记录内容与签名，请粘贴记录编号或回执文件。",
    "This is a leaf hash: the gateway only says leaf {leafIndex} is anchored in the checkpoint of size {treeSize}. To check the record's content and signer, paste its record id or receipt file.",
  ],
  "verify.badInput": [
    "请输入 0x 开头的 64 位小写十六进制哈希，或粘贴 JSON。",
    "Enter 0x followed by 64 lower-case hex digits, or paste JSON.",
  ],
  "verify.tooLarge": ["文件过大（上限 50 MB）。", "The file is too large (limit 50 MB)."],
  "verify.details": ["详细信息", "Details"],
  "verify.checks": ["核验项目", "Checks"],
  "verify.reason": ["原因", "Reason"],
  "verify.reportText": ["下载核验报告", "Download report"],
  "verify.reportJson": ["下载 JSON", "Download JSON"],
  "verify.print": ["打印", "Print"],
  "verify.records": ["记录", "Records"],
  "verify.source": ["核验来源", "Input"],
  "verify.fileHash": ["文件 SHA-256", "File SHA-256"],
  "verify.hashedWith": ["{how}计算", "computed with {how}"],
  "verify.webcrypto": ["浏览器 WebCrypto ", "the browser's WebCrypto"],
  "verify.purejs": ["纯 JavaScript（无 WebCrypto）", "pure JavaScript (no WebCrypto)"],
  "verify.checkedAt": ["核验时间", "Verified at"],

  "field.unit": ["单位", "Unit"],
  "field.dutyType": ["履职类型", "Duty type"],
  "field.performedAt": ["履职时间", "Performed"],
  "field.acceptedAt": ["接收时间", "Accepted"],
  "field.signer": ["签名人", "Signer"],
  "field.record": ["记录编号", "Record id"],
  "field.leaf": ["叶子", "Leaf"],
  "field.root": ["根", "Root"],
  "field.checkpoint": ["检查点", "Checkpoint"],
  "field.transaction": ["交易", "Transaction"],
  "field.block": ["区块", "Block"],
  "field.chain": ["链", "Chain"],
  "field.content": ["记录内容", "Record content"],
  "field.status": ["状态", "Status"],
  "field.fields": ["填报内容", "Fields"],
  "value.leaf": ["{hash}（序号 {index}）", "{hash} (index {index})"],
  "value.root": ["{hash}（树规模 {size}）", "{hash} (tree size {size})"],
  "value.checkpoint": ["规模 {size}，{time} 锚定", "size {size}, anchored {time}"],
  "value.chain": ["链 ID {chain}，合约 {contract}", "chain id {chain}, contract {contract}"],
  "value.contentChecked": ["已核对记录内容", "record content checked"],
  "value.receiptOnly": ["仅核验回执（未提供记录内容）", "receipt only (no record content given)"],
  "check.receipt": ["回执格式", "Receipt format"],
  "check.chain": ["链", "Chain"],
  "check.deployment": ["受信任的账本", "Trusted ledger"],
  "check.contract": ["合约", "Contract"],
  "check.record": ["记录内容", "Record content"],
  "check.signature": ["单位签名", "Unit's signature"],
  "check.leaf": ["叶子哈希", "Leaf hash"],
  "check.inclusion": ["包含证明", "Inclusion proof"],
  "check.checkpoint": ["链上检查点", "Anchored checkpoint"],
  "check.note": ["日志签名的检查点", "Log-signed checkpoint"],
  "check.key": ["当时的有效密钥", "Key valid at the time"],
  "check.witnesses": ["见证方联署", "Witness cosignatures"],
  "check.passed": ["通过", "passed"],
  "check.failed": ["未通过", "failed"],

  "ws.title": ["履职填报", "Duty workstation"],
  "ws.intro": [
    "一次填报、多方复用：在本机用单位的密钥文件签名后提交，取得可交给任何人核验的回执。私钥只在本浏览器内使用，不会发送。",
    "Fill in once, reuse everywhere: sign with the unit's keystore in this browser, submit, and get a receipt anyone can verify. The key never leaves this browser.",
  ],
  "ws.keySection": ["1. 单位与签名密钥", "1. Unit and signing key"],
  "ws.unit": ["单位名称或编号", "Unit name or id"],
  "ws.unitPlaceholder": ["如 qingshui-1", "e.g. qingshui-1"],
  "ws.unitHint": [
    "登记时使用的名称（如 qingshui-1），或 0x 开头的单位编号",
    "The name it was registered with, or its 0x id",
  ],
  "ws.keystore": ["密钥文件（加密 JSON）", "Keystore file (encrypted JSON)"],
  "ws.password": ["密钥文件密码", "Keystore password"],
  "ws.unlock": ["解锁密钥", "Unlock key"],
  "ws.unlocking": ["正在解锁（本机计算，约需数秒）…", "Unlocking (computed here, takes a few seconds)…"],
  "ws.unlocked": ["已解锁：{address}", "Unlocked: {address}"],
  "ws.lock": ["锁定", "Lock"],
  "ws.badKeystore": [
    "无法打开密钥文件：密码错误或不是密钥文件。",
    "Cannot open the keystore: wrong password or not a keystore.",
  ],
  "ws.needKeystore": ["请选择密钥文件。", "Choose a keystore file."],
  "ws.needUnit": ["请填写单位名称或编号。", "Enter the unit's name or id."],
  "ws.formSection": ["2. 填报内容", "2. The record"],
  "ws.dutyType": ["履职类型", "Duty type"],
  "ws.choose": ["请选择", "Choose"],
  "ws.performedAt": ["履职时间", "Time performed"],
  "ws.countyTime": ["北京时间（UTC+8）", "China Standard Time (UTC+8)"],
  "ws.personalNote": [
    "标有“个人信息”的内容只保存在网关中，链上只有加盐哈希。",
    "Fields marked personal stay in the gateway; only a salted hash goes on chain.",
  ],
  "ws.submit": ["签名并提交", "Sign and submit"],
  "ws.needUnlock": ["请先解锁签名密钥。", "Unlock the signing key first."],
  "ws.fixFields": ["请修正标出的内容。", "Fix the fields marked."],
  "ws.receiptSection": ["3. 回执", "3. Receipt"],
  "ws.noReceipt": ["提交后，回执显示在这里。", "The receipt appears here after submitting."],
  "ws.signed": ["已签名", "Signed"],
  "ws.accepted": ["网关已接收（叶子序号 {leaf}）", "Accepted by the gateway (leaf {leaf})"],
  "ws.duplicate": ["此记录此前已提交，返回原有回执", "Already submitted before; the same leaf is returned"],
  "ws.anchoring": ["等待锚定上链…", "Waiting for anchoring…"],
  "ws.anchored": ["已锚定：区块 {block}", "Anchored: block {block}"],
  "ws.anchorSlow": [
    "尚未锚定，网关会继续处理；稍后可在“履职记录”或“核验”页查询。",
    "Not anchored yet; the gateway keeps at it. Look it up later on the timeline or verify page.",
  ],
  "ws.downloadEvidence": ["下载证据文件（记录＋回执）", "Download evidence (record + receipt)"],
  "ws.verifyNow": ["立即核验", "Verify now"],
  "ws.newRecord": ["再填一条", "Fill in another"],
  "ws.answering": ["本条记录将答复调阅 {id}。", "This record answers evidence demand {id}."],
  "ws.notAnswering": ["不关联调阅", "Do not link"],
  "fieldError.required": ["必填", "required"],
  "fieldError.notEmpty": ["不能为空", "must not be empty"],
  "fieldError.maxLength": ["最多 {n} 个字", "at most {n} characters"],
  "fieldError.number": ["须为数字", "must be a number"],
  "fieldError.integer": ["须为整数", "must be an integer"],
  "fieldError.min": ["不能小于 {n}", "must be at least {n}"],
  "fieldError.max": ["不能大于 {n}", "must be at most {n}"],
  "fieldError.date": ["须为日期", "must be a date"],
  "fieldError.enum": ["请选择一项", "choose one"],

  "tl.title": ["履职记录", "Unit timeline"],
  "tl.intro": [
    "按时段和履职类型查看单位的存证记录及其状态。单位本身和经授权的检查人员可以查看（需要访问令牌）。",
    "A unit's attestations by period and duty type, with their status. For the unit itself and authorised inspectors (needs an access token).",
  ],
  "tl.token": ["访问令牌", "Access token"],
  "tl.tokenHint": [
    "由运维人员签发（dp_ 开头），只保存在本次会话中",
    "Issued by the operator (dp_…), kept for this session only",
  ],
  "tl.from": ["起始日期", "From"],
  "tl.to": ["截止日期", "To (exclusive)"],
  "tl.empty": ["该时段没有符合条件的履职记录。", "No records in this period."],
  "tl.start": ["填写单位和令牌后点击“查询”。", "Enter a unit and a token, then search."],
  "tl.total": ["共 {total} 条", "{total} records"],
  "tl.shown": ["（显示最近 {shown} 条）", "(latest {shown} shown)"],
  "tl.verify": ["核验", "Verify"],
  "tl.evidence": ["证据", "Evidence"],
  "tl.month": ["{year}年{month}月", "{year}-{month}"],
  "tl.notAnchored": ["尚未锚定，稍后可下载回执", "not anchored yet; the receipt comes later"],
  "tl.amendedBy": ["被 {id} 取代", "replaced by {id}"],
  "status.pending": ["待锚定", "pending"],
  "status.anchored": ["已锚定", "anchored"],
  "status.superseded": ["已更正", "superseded"],
  "status.withdrawn": ["已撤回", "withdrawn"],
  "status.erased": ["已依法删除", "erased"],

  "chain.title": ["链状态", "Chain status"],
  "chain.health": ["健康状况", "Health"],
  "chain.store": ["存储", "Store"],
  "chain.anchoring": ["锚定", "Anchoring"],
  "chain.ok": ["正常", "ok"],
  "chain.unreachable": ["无响应", "unreachable"],
  "chain.ledger": ["账本", "Ledger"],
  "chain.chainId": ["链 ID", "Chain id"],
  "chain.contract": ["DutyLedger 合约", "DutyLedger contract"],
  "chain.logId": ["日志编号", "Log id"],
  "chain.rpc": ["链 RPC", "Chain RPC"],
  "chain.logSize": ["日志规模（条）", "Log size (leaves)"],
  "chain.anchoredSize": ["已锚定规模", "Anchored size"],
  "chain.waiting": ["待锚定", "Waiting"],
  "chain.checkpoints": ["最近的检查点", "Latest checkpoints"],
  "chain.size": ["规模", "Size"],
  "chain.time": ["锚定时间", "Anchored"],
  "chain.noCheckpoints": [
    "尚无检查点。提交第一条记录后几秒内会锚定。",
    "No checkpoint yet. One is anchored seconds after the first record.",
  ],
  "chain.sent": ["已发送", "sent"],
  "chain.anchored": ["已锚定", "anchored"],

  "demands.title": ["证据调阅", "Evidence demands"],
  "dm.intro": [
    "检查数据优先从账本提取：调阅先由已存证的记录答复，重复调阅自动合并，清单外事项和超出年度现场检查次数的调阅被拒绝，只有账本无法答复时才转为单位待办。每次调阅及其结果本身也上链存证。",
    "Evidence comes from the ledger first: a demand is answered from attested records, a repeat is absorbed, off-list and over-quota demands are refused, and only what the ledger cannot answer becomes a task for the unit. Every demand and its outcome is itself logged and anchored.",
  ],
  "dm.mode": ["视角", "View"],
  "dm.modeInspector": ["发起调阅（检查人员）", "Make a demand (inspector)"],
  "dm.modeUnit": ["单位待办（基层单位）", "Tasks (unit)"],
  "dm.keySection": ["1. 检查人员签名密钥", "1. Inspector's signing key"],
  "dm.keystore": ["检查人员密钥文件", "Inspector's keystore"],
  "dm.department": ["部门", "Department"],
  "dm.departmentHint": ["登记时的部门代码，如 civil-affairs", "The department code registered, e.g. civil-affairs"],
  "dm.needDepartment": [
    "请填写部门代码（小写字母、数字和连字符）。",
    "Enter the department code (lower-case letters, digits, hyphens).",
  ],
  "dm.formSection": ["2. 调阅内容", "2. The demand"],
  "dm.resultSection": ["3. 调阅结果", "3. Outcome"],
  "dm.noResult": ["发起调阅后，结果显示在这里。", "The outcome appears here after sending."],
  "dm.dutyTypes": ["履职类型", "Duty types"],
  "dm.purpose": ["调阅事由", "Purpose"],
  "dm.onSite": ["现场检查", "On-site inspection"],
  "dm.onSiteShort": ["现场", "on site"],
  "dm.onSiteHint": ["计入该单位本年度现场检查次数", "Counts against the unit's yearly on-site quota"],
  "dm.emergency": ["紧急情况说明（超出次数上限时必填）", "Emergency (needed beyond the quota)"],
  "dm.emergencyHint": ["说明会被记录并在减负看板中统计", "Recorded, and counted on the burden dashboard"],
  "dm.submit": ["签名并发起调阅", "Sign and send the demand"],
  "dm.sending": ["正在提交调阅…", "Sending the demand…"],
  "dm.needTypes": ["请至少选择一个履职类型。", "Choose at least one duty type."],
  "dm.needPeriod": ["请填写起止日期，截止日期须晚于起始日期。", "Enter a period whose end is after its start."],
  "dm.needPurpose": ["请填写调阅事由。", "Enter the purpose."],
  "dm.factMatched": [
    "账本中有 {n} 条相符的记录，无需基层重新提供材料。",
    "{n} matching records in the ledger; nothing new is asked of the unit.",
  ],
  "dm.factDuplicate": [
    "与此前的调阅 {id} 重复，直接使用其证据包。",
    "Repeats demand {id}; its evidence package answers this one.",
  ],
  "dm.factQuota": [
    "{year} 年现场检查：已用 {used} 次，上限 {limit} 次。",
    "On-site inspections in {year}: {used} used of {limit}.",
  ],
  "dm.factTask": [
    "账本尚无相符记录，已转为单位待办，单位填报后自动关联。",
    "The ledger holds no matching record yet: the unit gets a task, answered by attesting.",
  ],
  "dm.logged": ["调阅编号 {id}，日志序号 {leaf}", "demand {id}, log leaf {leaf}"],
  "dm.package": ["证据包", "Evidence package"],
  "dm.verifyPackage": ["核验证据包（{n} 条记录）", "Verify the package ({n} records)"],
  "dm.downloadPackage": ["下载证据包", "Download the package"],
  "dm.tasks": ["待办（{n}）", "Open tasks ({n})"],
  "dm.noTasks": ["没有待办：所有调阅均已由账本答复。", "No open task: every demand was answered from the ledger."],
  "dm.received": ["收到的调阅（{n}）", "Demands received ({n})"],
  "dm.noDemands": ["尚未收到调阅。", "No demand received yet."],
  "dm.decidedAt": ["时间", "Decided"],
  "dm.period": ["时段", "Period"],
  "dm.decision": ["结果", "Outcome"],
  "dm.answer": ["去填报", "Answer"],
  "decision.answered_from_ledger": ["已由账本答复", "Answered from the ledger"],
  "decision.duplicate_absorbed": ["重复调阅，已合并", "Duplicate absorbed"],
  "decision.task_created": ["已转为单位待办", "Turned into a task"],
  "decision.on_site_admitted": ["准予现场检查", "On-site inspection admitted"],
  "decision.on_site_emergency": ["紧急现场检查（已记录）", "Emergency on-site inspection (recorded)"],
  "decision.refused_off_list": ["清单外事项，已拒绝", "Refused: not on the duty list"],
  "decision.refused_over_quota": ["超出现场检查次数，已拒绝", "Refused: over the on-site quota"],
  "offList.not_in_catalog": ["不在履职目录中", "not in the catalog"],
  "offList.inactive": ["已停用", "inactive"],
  "offList.level_not_applicable": ["不属于该层级单位的职责清单", "not on the list of the unit's level"],
  "offList.removed_from_unit_list": ["已从该单位的职责清单中移除", "removed from the unit's list"],
  "dashboard.title": ["减负看板", "Burden dashboard"],
  "db.intro": [
    "用账本的数据衡量基层负担：调阅由账本直接答复的比例、合并的重复调阅、现场检查与年度上限、节省的工时。",
    "The burden demands put on the grassroots, measured from the ledger: how many were answered from it, duplicates absorbed, on-site inspections against the yearly quota, staff hours saved.",
  ],
  "db.tokenHint": [
    "检查人员或审计令牌可看全县；单位令牌只能看本单位",
    "An inspector's or auditor's token sees the county; a unit's only itself",
  ],
  "db.unit": ["单位（可选）", "Unit (optional)"],
  "db.csv": ["导出 CSV", "Export CSV"],
  "db.start": ["填写令牌后点击“查询”。", "Enter a token, then search."],
  "db.empty": ["该时段没有调阅。", "No demand in this period."],
  "db.demands": ["调阅总数", "Demands"],
  "db.answered": ["账本直接答复", "Answered from the ledger"],
  "db.answeredShort": ["账本答复", "Answered from ledger"],
  "db.ofDemands": ["共 {n} 次", "{n} demands"],
  "db.duplicates": ["重复调阅合并", "Duplicates absorbed"],
  "db.refused": ["依规拒绝", "Refused by the rules"],
  "db.refusedSplit": ["清单外 {offList}，超次数 {quota}", "off-list {offList}, over quota {quota}"],
  "db.hours": ["节省工时", "Hours saved"],
  "db.hoursUnit": ["小时", "hours"],
  "db.overQuota": ["违规超次数检查", "Over quota, no emergency"],
  "db.emergencies": ["应为 0；紧急检查 {n} 次另计", "must be 0; {n} emergencies apart"],
  "db.chartMonthly": ["每月调阅与账本答复", "Demands and ledger answers per month"],
  "db.chartOutcomes": ["调阅结果", "What became of the demands"],
  "db.chartQuota": ["各单位现场检查与年度上限", "On-site inspections per unit against the yearly quota"],
  "db.chartHours": ["每月节省工时", "Staff hours saved per month"],
  "db.onSite": ["现场检查", "On-site inspections"],
  "db.quotaLine": ["年度上限 {n}", "yearly quota {n}"],
  "db.emergencyList": ["紧急现场检查及其理由（{n}）", "Emergency on-site inspections and their reasons ({n})"],
  "rq.title": ["负担请求", "Burden requests"],
  "rq.intro": [
    "部门签发会议、报表数据、现场检查、考核、借调请求，由统一闸口依规决定；基层单位查看须办事项、合并会议与联合检查。",
    "Departments sign meetings, data requests, inspections, evaluations and secondments, decided by the one gate; units see their tasks, combined meetings and joint visits.",
  ],
  "rq.kind": ["请求类型", "Kind"],
  "rq.unit": ["被请求单位", "Unit asked"],
  "rq.topic": ["会议主题", "Topic"],
  "rq.agenda": ["议程", "Agenda items"],
  "rq.decisions": ["拟决事项", "Decisions sought"],
  "rq.start": ["开始时间", "Starts"],
  "rq.minutes": ["时长（分钟）", "Duration (minutes)"],
  "rq.roles": ["须参会岗位", "Roles that must attend"],
  "rq.items": ["数据项", "Data items"],
  "rq.itemsHint": ["每行一项：事项代码.字段 或 catalog:目录代码", "One a line: CODE.field or catalog:code"],
  "rq.linesHint": ["每行一项", "One a line"],
  "rq.from": ["起", "From"],
  "rq.to": ["止", "To"],
  "rq.deadline": ["报送期限", "Due"],
  "rq.approval": ["审批文号（可选）", "Approval reference (optional)"],
  "rq.domain": ["领域", "Domain"],
  "rq.dutyTypes": ["检查事项代码", "Duty type codes"],
  "rq.title2": ["考核内容", "What is evaluated"],
  "rq.role": ["借调岗位", "Role seconded"],
  "rq.days": ["天数", "Days"],
  "rq.send": ["签名并提交", "Sign and send"],
  "rq.needDepartment": ["请填写部门代码", "Enter the department code"],
  "rq.needTime": ["请填写{field}", "Enter {field}"],
  "rq.unknownType": ["目录中没有事项 {code}", "No duty type {code} in the catalog"],
  "rq.mergedWith": ["已与请求 {id}… 合并", "Merged with request {id}…"],
  "rq.lead": ["主管部门：{department}，请查阅其结果", "Lead department: {department}; read its results"],
  "rq.answeredItem": ["{item}：账本已有 {n} 条记录", "{item}: {n} records in the ledger"],
  "rq.missing": ["仍须单位提供：{items}", "Still asked of the unit: {items}"],
  "rq.unitTitle": ["单位视图", "The unit's view"],
  "rq.tasks": ["须办事项（{n}）", "Tasks ({n})"],
  "rq.combined": ["合并会议（{n}）", "Combined meetings ({n})"],
  "rq.joint": ["联合检查（{n}）", "Joint visits ({n})"],
  "live.alertTitle": ["实时监测预警（{n}）", "Live monitoring alerts ({n})"],
  "live.overThreshold": [
    "{department} 本月向 {unit} 发出 {count} 项请求，超过阈值 {limit}",
    "{department} sent {unit} {count} requests this month, above the threshold of {limit}",
  ],
  "live.aboveUsual": [
    "{unit} 本月负担 {count} 项，高于其常态水平 {limit}",
    "{unit} received {count} requests this month, above its usual level of {limit}",
  ],
  "live.month": ["实时：{month} 月共 {n} 项请求", "Live: {n} requests in {month}"],
  "live.stale": ["暂未更新", "not updated"],
  "live.kind.evidence": ["调阅", "evidence"],
  "live.kind.inspection": ["现场检查", "on-site"],
  "live.kind.meeting": ["会议", "meetings"],
  "live.kind.data": ["报表数据", "data requests"],
  "live.kind.evaluation": ["考核", "evaluations"],
  "live.kind.secondment": ["借调", "secondments"],
  "db.emergencyReason": ["紧急理由", "Stated emergency"],
} satisfies Record<string, [string, string]>;

export type MessageKey = keyof typeof messages;

const storageKey = "dutyproof.language";
let current: Language = readStoredLanguage();
const listeners = new Set<() => void>();

function readStoredLanguage(): Language {
  try {
    return localStorage.getItem(storageKey) === "en" ? "en" : "zh-CN";
  } catch {
    return "zh-CN";
  }
}

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  current = next;
  try {
    localStorage.setItem(storageKey, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener: () => void): void {
  listeners.add(listener);
}

/** Whether a key exists (for optional messages such as a problem code's). */
export function hasMessage(key: string): key is MessageKey {
  return key in messages;
}

export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const text = messages[key][current === "zh-CN" ? 0 : 1];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

/** A title object of a duty-type document ({"zh-CN", en}) in the current language. */
export function localTitle(title: { "zh-CN": string; en: string }): string {
  return title[current];
}

/**
 * An enum field's value as the page's language says it: its title in the duty-type document,
 * or the value itself where the document gives none (documents older than value titles).
 */
export function valueText(field: FieldDefinition | undefined, value: string): string {
  const title = field ? valueTitleOf(field, value) : undefined;
  return title ? localTitle(title) : value;
}
