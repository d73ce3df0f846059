"""Checking a case-file package (案卷包) against itself: SHA256SUMS, manifest.json, the copy of the manifest
embedded in 案卷.pdf and the PAdES signature of every signed letter, so any edited, added or missing file is named. Plain bytes in, problems (in Chinese) out.

The package layout is `engine.services.casefile_package`; the PDF is read by `letters.casefile`.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from engine.services.casefile_package import CASEFILE_PDF, FORMAT, MANIFEST, ORIGINALS, SUMS, sha256_hex
from letters.casefile import embedded_manifest
from letters.signing import verify_pdf


def verify_case_zip(path: Path) -> list[str]:
    """Every difference between a case-file ZIP and its own hashes and manifests, in Chinese; [] = intact."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        return [f"{path.name} 不是有效的 ZIP 文件或无法读取：{error}"]
    problems: list[str] = []
    with archive:
        contents: dict[str, bytes] = {}
        for info in archive.infolist():
            try:
                contents[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError) as error:
                problems.append(f"文件「{info.filename}」已损坏（ZIP 校验失败：{error}）")
    for required in (CASEFILE_PDF, MANIFEST, SUMS):
        if required not in contents and not any(required in p for p in problems):
            problems.append(f"缺少文件「{required}」")
    listed = _parse_sums(contents.get(SUMS, b""), problems)
    for name, expected in listed.items():
        if name not in contents:
            if not any(f"「{name}」" in p for p in problems):
                problems.append(f"SHA256SUMS 列出的文件「{name}」不在案卷包中")
        elif sha256_hex(contents[name]) != expected:
            problems.append(f"文件「{name}」的 SHA-256 与 SHA256SUMS 不符（文件被修改）：应为 {expected}，"
                            f"实际为 {sha256_hex(contents[name])}")
    for name in contents:
        if name != SUMS and name not in listed:
            problems.append(f"文件「{name}」未列入 SHA256SUMS（案卷包被添加了文件）")
    manifest = _parse_manifest(contents.get(MANIFEST), problems)
    if manifest is not None:
        _check_manifest_files(manifest, contents, problems)
    pdf = contents.get(CASEFILE_PDF)
    if pdf is not None and MANIFEST in contents:
        _check_embedded(pdf, contents[MANIFEST], problems)
    return problems


def _parse_sums(raw: bytes, problems: list[str]) -> dict[str, str]:
    listed: dict[str, str] = {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("SHA256SUMS 不是 UTF-8 文本")
        return listed
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not match:
            problems.append(f"SHA256SUMS 第 {number} 行格式不正确：{line[:80]}")
            continue
        listed[match.group(2)] = match.group(1)
    return listed


def _parse_manifest(raw: bytes | None, problems: list[str]) -> dict | None:
    if raw is None:
        return None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(f"manifest.json 无法解析：{error}")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
        problems.append(f"manifest.json 不是本系统的案卷清单（格式应为 {FORMAT}）")
        return None
    return manifest


def _check_manifest_files(manifest: dict, contents: dict[str, bytes], problems: list[str]) -> None:
    for entry in manifest["files"]:
        name = entry.get("path", "")
        if name not in contents:
            problems.append(f"manifest.json 列出的原件「{name}」不在案卷包中")
            continue
        actual = contents[name]
        if sha256_hex(actual) != entry.get("sha256"):
            problems.append(f"原件「{name}」的 SHA-256 与 manifest.json 不符：应为 {entry.get('sha256')}，"
                            f"实际为 {sha256_hex(actual)}")
        if entry.get("signed_with"):
            _check_signature(name, actual, entry["signed_with"], problems)
        if len(actual) != entry.get("size_bytes"):
            problems.append(f"原件「{name}」的大小与 manifest.json 不符：应为 {entry.get('size_bytes')} 字节，"
                            f"实际为 {len(actual)} 字节")
    expected = {entry.get("path") for entry in manifest["files"]} | {CASEFILE_PDF, MANIFEST, SUMS}
    for name in contents:
        if name.startswith(ORIGINALS + "/") and name not in expected:
            problems.append(f"原件目录中的「{name}」未列入 manifest.json")


def _check_signature(name: str, pdf: bytes, fingerprint: str, problems: list[str]) -> None:
    """A letter the manifest records as signed must still carry an intact signature by that certificate."""
    result = verify_pdf(pdf)
    if not result.ok:
        reasons = [result.problem] if result.problem else [s.problem or "签名不完整" for s in result.signatures if not s.ok]
        problems.append(f"原件「{name}」的电子签名无效：{'；'.join(reasons)}")
    elif not any(s.certificate and s.certificate.fingerprint_sha256 == fingerprint for s in result.signatures):
        problems.append(f"原件「{name}」的签名证书与 manifest.json 记录的证书（指纹 {fingerprint}）不符")


def _check_embedded(pdf: bytes, manifest: bytes, problems: list[str]) -> None:
    try:
        embedded = embedded_manifest(pdf)
    except Exception as error:  # noqa: BLE001 - any parse failure of a tampered PDF is a finding, not a crash
        problems.append(f"案卷.pdf 无法读取（文件已损坏）：{error}")
        return
    if embedded is None:
        problems.append("案卷.pdf 中没有内嵌的 manifest.json")
    elif embedded != manifest:
        problems.append("案卷.pdf 内嵌的 manifest.json 与案卷包中的 manifest.json 不一致")
