import importlib.util
import schemathesis
from tests.e2e.conftest import ApiClient
from tests.e2e.test_fuzz import _key_for_the_fuzzer, _story_to_find

def test_probe(base_url, local_stack):
    import api.main
    spec = importlib.util.spec_from_file_location("old_main", "/tmp/main.py.before")
    old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
    raw = old.create_app(api.main.get_settings()).openapi()
    schema = schemathesis.openapi.from_dict(raw)
    token = _key_for_the_fuzzer()
    found = _story_to_find(ApiClient(base_url, key=token))
    for path, key in [("/api/v1/stories/images/{file_path}", "image"), ("/api/v1/stories/videos/{file_path}", "video")]:
        case = schema[path]["GET"].Case(path_parameters={"file_path": found[key]})
        try:
            case.call_and_validate(base_url=base_url)
            print("PROBE ok", path)
        except BaseException as e:
            print("PROBE", path, str(e)[:400])
