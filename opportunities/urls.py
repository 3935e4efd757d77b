from . import iqm_views, views

app_name = "opportunities"
urlpatterns = views.urlpatterns + iqm_views.urlpatterns
