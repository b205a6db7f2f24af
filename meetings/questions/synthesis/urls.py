from django.urls import path

from meetings.questions.synthesis import views

urlpatterns = [
    path("<slug:slug>/synthesis/", views.synthesis_page, name="round-synthesis"),
    path("<slug:slug>/synthesis.<str:fmt>", views.synthesis_file, name="round-synthesis-file"),
]
