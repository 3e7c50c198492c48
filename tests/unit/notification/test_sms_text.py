"""SMS text: Chinese counted in 70-character segments, capped with an ellipsis."""
from services.notification.channels.sms import fit, segments


def test_chinese_text_counts_70_characters_a_segment_ascii_160():
    assert segments("学" * 70) == 1 and segments("学" * 71) == 2 and segments("学" * 140) == 2
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 70 + "学") == 2          # one Chinese character makes the whole text UCS-2


def test_a_long_text_is_cut_to_the_cap_with_an_ellipsis_signature_included():
    text = "家长您好：" + "学" * 300
    cut = fit(text, max_segments=3, signature="【某某学院】")
    assert cut.endswith("…") and segments("【某某学院】" + cut) == 3 and len("【某某学院】" + cut) == 210
    assert fit("短信", 1) == "短信"
