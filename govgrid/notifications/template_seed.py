"""The default Chinese templates, seeded by migration 0002 and used as the fallback when an
admin-edited template cannot be rendered.

Keys are (event, channel); values are (subject, body). SMS texts start with the signature
【网格通】 that Chinese carriers require on every message.
"""

DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("dispatched", "inapp"): (
        "事件{number}已派遣",
        "事件{number}（{category}，{grid}）已派遣至{unit}，请于{deadline}前签收。",
    ),
    ("dispatched", "sms"): ("", "【网格通】事件{number}已派遣至{unit}，请于{deadline}前签收。"),
    ("returned", "inapp"): (
        "事件{number}被退回",
        "{unit}退回了事件{number}（{category}）。原因：{note}。请重新派遣或驳回退单。",
    ),
    ("returned", "sms"): ("", "【网格通】事件{number}已被{unit}退回，原因：{note}。请及时处理。"),
    ("extension_decided", "inapp"): (
        "事件{number}的延期申请已处理",
        "事件{number}的延期申请已处理：{note}。当前办理期限为{deadline}。",
    ),
    ("extension_decided", "sms"): (
        "",
        "【网格通】事件{number}的延期申请已处理：{note}，办理期限{deadline}。",
    ),
    ("warning_blue", "inapp"): (
        "蓝色预警：事件{number}",
        "事件{number}（{category}，{grid}）已用去一半办理时限，期限为{deadline}。",
    ),
    ("warning_blue", "sms"): (
        "",
        "【网格通】蓝色预警：事件{number}已过半办理时限，请于{deadline}前办结。",
    ),
    ("warning_yellow", "inapp"): (
        "黄色预警：事件{number}",
        "事件{number}（{category}，{grid}）即将超期，期限为{deadline}，请抓紧办理。",
    ),
    ("warning_yellow", "sms"): (
        "",
        "【网格通】黄色预警：事件{number}即将超期，期限{deadline}，请抓紧办理。",
    ),
    ("warning_red", "inapp"): (
        "红色预警：事件{number}",
        "事件{number}（{category}，{grid}）已超期（期限{deadline}），请立即办理。",
    ),
    ("warning_red", "sms"): ("", "【网格通】红色预警：事件{number}已超期，请立即办理。"),
    ("supervision", "inapp"): (
        "督办：事件{number}",
        "事件{number}收到{level}督办：{note}。请于{deadline}前回复。",
    ),
    ("supervision", "sms"): ("", "【网格通】事件{number}收到{level}督办，请于{deadline}前回复。"),
    ("closed", "inapp"): ("事件{number}已结案", "事件{number}（{category}，{grid}）已结案。"),
    ("closed", "sms"): ("", "【网格通】您反映的事件{number}已办结，感谢您的支持。"),
    ("rating_request", "inapp"): (
        "请评价事件{number}",
        "事件{number}已办结，请对办理结果进行评价：{link}",
    ),
    ("rating_request", "sms"): (
        "",
        "【网格通】您反映的事件{number}已办结，请点击{link}评价办理结果。",
    ),
}


# E-mail repeats the in-app text, with its subject, for every event (Django's mail backends).
DEFAULT_TEMPLATES.update(
    {
        (event, "email"): (subject, body + "\n\n—— 网格通（网格化服务管理平台）")
        for (event, channel), (subject, body) in list(DEFAULT_TEMPLATES.items())
        if channel == "inapp"
    }
)


def seed_templates(template_model) -> None:
    """Create the defaults that are missing; templates an admin edited stay as they are."""
    for (event, channel), (subject, body) in DEFAULT_TEMPLATES.items():
        template_model.objects.get_or_create(
            event=event, channel=channel, defaults={"subject": subject, "body": body}
        )
