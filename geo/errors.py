"""Errors that mean "the input is wrong", each with a hint a person can act on.

Every error a person can fix carries five things, in one shape wherever it is raised
(:mod:`geo`, :mod:`layers` or the web layer): ``message`` and ``hint`` in English (precise,
for programs: they may name a parameter), ``message_zh`` and ``hint_zh`` in Chinese, and a
stable ``code`` that pages translate and programs switch on.  :data:`MESSAGES` gives each
code a sentence for a person in both languages (never naming a query parameter); it is
the Chinese text when a raise site has no more precise one.

The web layer turns these errors into the JSON error body
``{"error", "error_zh", "code", "status", "hint", "hint_zh"}``; a notebook user sees
the same message.

Examples
--------
>>> e = GeoInputError("the file is empty", hint="upload a GeoJSON, zip or CSV file",
...                   code="file_empty")
>>> e.status, str(e), e.message_zh
(400, 'the file is empty', '文件是空的。')
>>> GeoInputError("odd", code="no_such_code")
Traceback (most recent call last):
...
ValueError: unknown error code 'no_such_code': add it to geo.errors.MESSAGES
"""

from __future__ import annotations

#: Every error code with a sentence for a person: (Chinese, English).  Pages show these
#: (in the page's language) instead of the API's wording; programs switch on the code.
MESSAGES: dict[str, tuple[str, str]] = {
    # reading files
    "file_empty": ("文件是空的。", "The file is empty."),
    "file_unreadable": ("文件无法读取，可能已损坏或格式不对。",
                        "The file cannot be read; it may be damaged or in another format."),
    "file_encoding": ("文件的文字编码无法识别，请另存为 UTF-8。",
                      "The file's text encoding is not recognised; save it as UTF-8."),
    "unsupported_format": ("不支持这种文件格式。",
                           "This file format is not supported."),
    "not_found_file": ("找不到这个文件。", "The file was not found."),
    "geojson_invalid": ("这不是有效的 GeoJSON。", "This is not valid GeoJSON."),
    "no_features": ("文件里没有可用的要素。", "The file holds no usable features."),
    "too_many_columns": ("属性列太多。", "The file has too many attribute columns."),
    "layer_choice": ("文件里有多个图层，请选择一个。",
                     "The file holds several layers; choose one."),
    "layer_not_in_file": ("文件里没有这个图层或工作表。",
                          "The file has no layer or sheet of that name."),
    "no_coordinates": ("表格里没有找到经纬度列。",
                       "No longitude/latitude columns were found in the table."),
    "zip_invalid": ("压缩包损坏或不完整。", "The zip file is damaged or incomplete."),
    "zip_unsafe": ("压缩包里有不安全的文件路径。", "The zip file holds an unsafe path."),
    "zip_contents": ("压缩包里的内容无法作为地理数据读取。",
                     "The zip file's contents cannot be read as geodata."),
    "upload_too_large": ("上传的文件超过了大小限制。", "The upload is larger than the limit."),
    "upload_missing": ("没有收到文件。", "No file was received."),
    "bad_crs": ("坐标参考系无法识别。", "The coordinate reference system is not recognised."),
    "bad_datum": ("坐标基准无法识别，可选 WGS 84、CGCS2000、GCJ-02、BD-09。",
                  "The datum is not recognised; choose WGS 84, CGCS2000, GCJ-02 or BD-09."),
    "unsupported_media_type": ("请求内容的类型不受支持。",
                               "The request's content type is not supported."),
    # the store
    "bad_layer_name": ("图层名称不合规：请用小写字母、数字、下划线或连字符。",
                       "That layer name is not allowed: use lowercase letters, digits, "
                       "'_' or '-'."),
    "layer_not_found": ("没有这个图层。", "There is no layer of that name."),
    "layer_exists": ("同名图层已经存在。", "A layer of that name exists already."),
    "catalog_layer": ("这是图集的参考图层，不能这样修改。",
                      "This is one of the atlas's reference layers and cannot be changed "
                      "this way."),
    "version_not_found": ("没有这个版本。", "There is no such version."),
    "version_current": ("当前版本不能删除。", "The current version cannot be deleted."),
    # replacing a catalog layer with the League's own data (row-level problems are listed
    # in the answer's "errors"; the code says what kind stopped the commit)
    "replacement_invalid": ("文件中有错误，参考图层未被替换。",
                            "The file has errors; the reference layer was not replaced."),
    "wrong_geometry": ("文件中的要素类型与这个图层不符（例如把河流文件给了项目图层）。",
                       "The file holds another kind of feature than this layer (e.g. rivers "
                       "given to the projects layer)."),
    "no_columns_matched": ("文件的列与这个图层的字段都对应不上。",
                           "None of the file's columns matches a field of this layer."),
    "amount_unit": ("金额单位不对：可能把万元当成了亿元。",
                    "The amounts are in the wrong unit: 万元 given where 亿元 is expected."),
    "duplicate_id": ("文件中有重复的编号。", "The file has duplicate ids."),
    "required_missing": ("必填的内容没有填写。", "A required value is missing."),
    "outside_league": ("有要素在锡林郭勒盟范围之外。", "A feature lies outside Xilingol League."),
    "required_column_missing": ("文件缺少必填的列。", "The file lacks a required column."),
    "unknown_code": ("有不在可选范围内的分类值。", "A coded value is not one of the allowed ones."),
    "unplaceable": ("有的行没有坐标，按地名也无法定位。",
                    "A row has no coordinates and its place name cannot be found."),
    "mapping_unknown_column": ("列映射里写的列在文件中不存在。",
                               "The column mapping names a column the file does not have."),
    "bad_query": ("查询条件有误。", "The query cannot be answered as asked."),
    "bad_filter": ("过滤条件无法执行，请检查其中指出的部分。",
                   "The filter cannot be evaluated; check the part it names."),
    "not_supported": ("当前存储后端不支持这个功能。",
                      "This store does not offer that feature."),
    "store_unavailable": ("数据存储暂时无法使用。", "The data store is not available."),
    "store_full": ("存储所在的磁盘已满，图层未保存；已有图层完好。",
                   "The store's disk is full, so the layer was not saved; earlier layers are "
                   "intact."),
    "store_read_only": ("存储暂时无法写入，请稍后再试；浏览不受影响。",
                        "The store cannot be written just now; try again later. Reading goes "
                        "on."),
    # the scenic road's trip planner
    "no_such_station": ("风景大道上没有这个驿站，请从列表中选择。",
                        "There is no such station on the scenic road; pick one from the list."),
    "bad_direction": ("行进方向只能是顺行（宝昌→乌拉盖）或逆行。",
                      "The direction of travel is either forward (Baochang to Wulagai) or "
                      "reverse."),
    "direction_conflict": ("所选起点和终点的先后与所选方向相反：请交换起点和终点，或不选方向。",
                           "The chosen start and end run the other way: swap them, or leave "
                           "the direction unset."),
    "empty_trip": ("起点和终点是同一处，行程没有长度：请选两个不同的驿站。",
                   "The start and the end are the same place, so the trip has no length: "
                   "pick two different stations."),
    "no_such_stage": ("行程中没有这一段。", "The trip has no such stage."),
    # requests
    "bad_parameter": ("请求中的某个值无效。", "A value in the request is not valid."),
    "unknown_parameter": ("请求中有无法识别的选项。",
                          "The request has an option this address does not know."),
    "not_found": ("找不到这个地址。", "Nothing is at this address."),
    "feature_not_found": ("没有这个要素。", "There is no such feature."),
    "section_not_found": ("没有这个国考断面。", "There is no national section with that id."),
    "bad_date": ("日期无效，请写作 年-月-日（如 2023-05-01）。",
                 "The date is not valid; write it as YYYY-MM-DD (e.g. 2023-05-01)."),
    "method_not_allowed": ("这个地址不接受这种操作。",
                           "This address does not accept that kind of request."),
    "bad_tile": ("瓦片编号无效。", "The tile address is not valid."),
    "overlay_too_large": ("点位太多，无法一次在页面上显示：请改为后台任务，或下载 CSV/GeoJSON 结果。",
                          "Too many sites to answer in one page: run it as a job, or download "
                          "the result as CSV or GeoJSON."),
    "too_many_features": ("要素太多，无法一次返回：请缩小范围、加上 limit，或改用矢量瓦片或分页的 OGC API。",
                          "Too many features for one answer: narrow the bbox, add a limit, or "
                          "use the vector tiles or the paged OGC API items."),
    "job_not_found": ("没有这个任务，或它的结果已过期删除。",
                      "There is no such job, or its results have expired."),
    "job_not_done": ("任务还没有完成，结果尚不能下载。", "The job has not finished; its results "
                     "cannot be downloaded yet."),
    "too_many_jobs": ("您已有任务在排队或运行，请等它们完成后再提交。",
                      "You have jobs queued or running already; wait for them to finish."),
    "job_queue_full": ("服务器的任务队列已满，请稍后再试。",
                       "The server's job queue is full; try again later."),
    "job_failed": ("任务没有完成。", "The job did not finish."),
    "writes_disabled": ("本服务器未开启数据写入。", "Writing data is switched off on this server."),
    "unauthorized": ("需要有效的写入密钥。", "A valid write key is needed."),
    "unprocessable": ("数据可以读取，但无法使用。", "The data was read but cannot be used."),
    "bad_request": ("请求有误。", "The request is not valid."),
    "internal_error": ("服务器内部出错，请稍后再试。",
                       "Something went wrong on the server; try again later."),
}


def message(code: str, lang: str = "zh") -> str:
    """The sentence for a person of error ``code`` in ``lang``.

    Examples
    --------
    >>> message("layer_exists", "en")
    'A layer of that name exists already.'
    """
    zh, en = MESSAGES[code]
    return en if lang == "en" else zh


class ExplainedError(Exception):
    """An error a person can act on: what is wrong and how to fix it, in two languages.

    Parameters
    ----------
    message : str
        What is wrong, in one English sentence (may name parameters: programs read it).
    hint : str
        How to fix it, in English.
    code : str, optional
        Stable identifier from :data:`MESSAGES` (default: the class's ``default_code``).
    message_zh, hint_zh : str, optional
        The same in Chinese; ``message_zh`` defaults to the code's sentence.
    """

    default_code = "bad_request"
    #: Hints used when a raise site gives none (a class's usual remedy).
    default_hint = ""
    default_hint_zh = ""

    def __init__(self, message: str, hint: str = "", *, code: str | None = None,
                 message_zh: str = "", hint_zh: str = "") -> None:
        super().__init__(message)
        code = code or self.default_code
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code!r}: add it to geo.errors.MESSAGES")
        self.message = message
        self.hint = hint or self.default_hint
        self.code = code
        self.message_zh = message_zh or MESSAGES[code][0]
        self.hint_zh = hint_zh or (self.default_hint_zh if not hint else "")

    def __str__(self) -> str:  # KeyError subclasses would quote it otherwise
        return self.message

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form (without the HTTP status, which the web layer adds)."""
        return {"error": self.message, "error_zh": self.message_zh, "code": self.code,
                "hint": self.hint, "hint_zh": self.hint_zh}


class GeoInputError(ExplainedError, ValueError):
    """Bad input: wrong format, unreadable file, impossible parameter.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    hint : str
        How to fix it.
    status : int
        HTTP status the web layer should answer with (400 bad request, 413 too
        large, 415 unsupported format, 422 understood but unusable).
    code, message_zh, hint_zh : str
        See :class:`ExplainedError`.
    """

    default_code = "file_unreadable"

    def __init__(self, message: str, hint: str = "", status: int = 400, *,
                 code: str | None = None, message_zh: str = "", hint_zh: str = "") -> None:
        super().__init__(message, hint, code=code, message_zh=message_zh, hint_zh=hint_zh)
        self.status = status
