(function(){
var token=document.querySelector('meta[name="csrf-token"]').content;
var queue=document.getElementById('queue'),flashEl=document.getElementById('flash');
var sel=0,loaded={};
function items(){return Array.prototype.slice.call(queue.querySelectorAll('li.item'))}
function current(){return items()[sel]||null}
function flash(msg,err){flashEl.textContent=msg;flashEl.className=err?'err':'ok'}
function select(i){
  var list=items();if(!list.length){sel=0;return}
  sel=Math.max(0,Math.min(i,list.length-1));
  list.forEach(function(el,j){var on=j===sel;el.classList.toggle('selected',on);el.setAttribute('aria-selected',on?'true':'false')});
  var it=list[sel];it.scrollIntoView({block:'nearest'});loadCompare(it);
}
function loadCompare(it){
  var key=it.dataset.id+' '+it.dataset.replacement;if(loaded[key]===it)return;loaded[key]=it;
  var box=it.querySelector('.capture-text');box.innerHTML='<span class="muted">loading the capture…</span>';
  fetch('/compare/'+encodeURIComponent(it.dataset.id),{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(d){
    if(d.post_html){it.querySelector('.post-text').innerHTML=d.post_html}
    box.innerHTML=d.capture_html||'';
  }).catch(function(){box.textContent='could not load the capture'});
}
function post(path,body){
  return fetch(path,{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json','X-CSRF-Token':token},
    body:JSON.stringify(body)}).then(function(r){return r.json().catch(function(){return {error:r.statusText}}).then(function(d){
      if(!r.ok)throw new Error(d.error||r.statusText);return d})});
}
function note(){var n=document.getElementById('note');var v=n.value;return v||null}
function refresh(){
  return fetch('/queue',{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(d){
    queue.innerHTML=d.html;document.getElementById('recent').innerHTML=d.recent;
    document.getElementById('pending').textContent=d.pending;loaded={};select(sel);
  });
}
// Requests run one after another, each seeing the queue the previous one left: no keystroke is lost or
// applied to a repair that has already gone. The message shows once the queue is up to date.
var chain=Promise.resolve();
function enqueue(fn){chain=chain.then(fn).catch(function(){});return chain}
function done(d){document.getElementById('note').value='';return refresh().then(function(){flash(d.message,false)})}
function run(path,body){return enqueue(function(){var b=body();if(!b)return;
  return post(path,b).then(done,function(e){flash(e.message,true)})})}
function act(action){run('/decide',function(){var it=current();return it&&{ids:[+it.dataset.id],action:action,note:note()}})}
function openEdit(){var it=current();if(!it)return;var f=it.querySelector('form.edit');f.hidden=false;var i=f.querySelector('input');i.focus();i.select()}
function closeEdit(f){f.hidden=true;f.querySelector('.error').textContent='';queue.focus()}
function undo(){run('/undo',function(){return {}})}
queue.addEventListener('click',function(ev){
  var it=ev.target.closest('li.item');if(!it)return;
  var list=items();var idx=list.indexOf(it);if(idx!==sel)select(idx);
  var b=ev.target.closest('button[data-action]');if(!b)return;
  var a=b.dataset.action;
  if(a==='edit')openEdit();else if(a==='cancel')closeEdit(b.closest('form'));else act(a);
});
queue.addEventListener('submit',function(ev){
  ev.preventDefault();var f=ev.target,it=f.closest('li.item');
  var approve=ev.submitter&&ev.submitter.value==='1';
  var body={ids:[+it.dataset.id],action:'edit',replacement:f.querySelector('input').value,approve:approve,note:note()};
  enqueue(function(){return post('/decide',body).then(function(d){
    if(document.activeElement)document.activeElement.blur();return done(d);
  },function(e){f.querySelector('.error').textContent=e.message;flash(e.message,true)})});
});
document.getElementById('undo').addEventListener('click',undo);
document.getElementById('bulk').addEventListener('submit',function(ev){
  ev.preventDefault();var v=parseFloat(document.getElementById('threshold').value);
  run('/bulk-approve',function(){return {min_confidence:v,note:note()}});
});
document.getElementById('help').addEventListener('click',function(){var k=document.getElementById('keys');k.hidden=!k.hidden});
document.addEventListener('keydown',function(ev){
  var t=ev.target;
  if(ev.key==='Escape'){var f=t.closest&&t.closest('form.edit');if(f){ev.preventDefault();closeEdit(f)}return}
  if(ev.ctrlKey||ev.metaKey||ev.altKey)return;
  if(t.matches&&t.matches('input,textarea,select'))return;
  var k=ev.key;
  if(k==='j'){select(sel+1)}else if(k==='k'){select(sel-1)}
  else if(k==='a'){act('approve')}else if(k==='r'){act('reject')}else if(k==='n'){act('not-dead')}
  else if(k==='e'){openEdit()}else if(k==='u'){undo()}
  else if(k==='?'){var h=document.getElementById('keys');h.hidden=!h.hidden}
  else return;
  ev.preventDefault();
});
select(0);
document.body.setAttribute('data-ready','1');
})();
